/* SPDX-License-Identifier: BSD-3-Clause */
/* A phasing team (phasing/team.h) made of the ranks of an hpc group. */
#ifndef BCDI_HPC_PHASE_TEAM_H
#define BCDI_HPC_PHASE_TEAM_H

#include "hpc/hpc.h"
#include "phasing/team.h"

/* `team` speaks for the ranks of `group` (which must outlive it). */
void bcdi_hpc_phase_team(bcdi_hpc *group, bcdi_phase_team *team);

#endif
