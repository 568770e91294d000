/* Former name of the HDF5 layer's header, kept only so that branches written before the split
 * into io/hdf5_{types,read,write,describe}.c still compile; include "io/hdf5.h" instead. */
#include "io/hdf5.h"
