/* Temporary: replaced when the simulator library lands (issue 2, in progress). */
#include "cli.h"
#include <stdio.h>
int cmd_simulate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "braggcdi simulate: not available in this build yet\n");
    return CLI_EXIT_FAILURE;
}
