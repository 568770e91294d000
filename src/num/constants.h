/* Physical and mathematical constants, written once for the whole library. (kernels/ keeps its
 * own literals: it must compile alone under nvcc.) */
#ifndef BCDI_NUM_CONSTANTS_H
#define BCDI_NUM_CONSTANTS_H

#define BCDI_PI 3.14159265358979323846
#define BCDI_TWO_PI 6.28318530717958647692

/* h·c in keV·Å: λ[Å] = BCDI_HC_KEV_ANGSTROM / E[keV]. Exact since the 2019 SI (h and c are
 * defined), as CODATA gives it: 12.398 419 843 320 026 keV·Å. */
#define BCDI_HC_KEV_ANGSTROM 12.398419843320026

/* Degrees ↔ radians. */
#define BCDI_DEG_TO_RAD (BCDI_PI / 180.0)
#define BCDI_RAD_TO_DEG (180.0 / BCDI_PI)

/* Wavelength in metres of a photon of `energy_kev` keV. */
static inline double bcdi_wavelength_m(double energy_kev)
{
    return BCDI_HC_KEV_ANGSTROM / energy_kev * 1e-10;
}

#endif
