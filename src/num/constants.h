/* SPDX-License-Identifier: BSD-3-Clause */
/* Physical and mathematical constants, written once for the whole library. (kernels/ keeps its
 * own literals: it must compile alone under nvcc.) */
#ifndef BCDI_NUM_CONSTANTS_H
#define BCDI_NUM_CONSTANTS_H

#define BCDI_PI 3.14159265358979323846
#define BCDI_TWO_PI 6.28318530717958647692

/* h·c in keV·Å: λ[Å] = BCDI_HC_KEV_ANGSTROM / E[keV]. The exact value (2019 SI) is
 * 12.398 419 843 320 026; 12.3984 is 1.6e-6 below it, far inside any beamline's energy
 * calibration, and is what the embedded dataset (datasets/nmc811-003-sim) and the hand-computed
 * bases in the tests were made with: the exact value changes that dataset's Poisson counts in
 * 1480 pixels and, through them, which solution its pipeline test's two phasing runs reach. */
#define BCDI_HC_KEV_ANGSTROM 12.3984

/* Degrees ↔ radians. */
#define BCDI_DEG_TO_RAD (BCDI_PI / 180.0)
#define BCDI_RAD_TO_DEG (180.0 / BCDI_PI)

/* Wavelength in metres of a photon of `energy_kev` keV. */
static inline double bcdi_wavelength_m(double energy_kev)
{
    return BCDI_HC_KEV_ANGSTROM / energy_kev * 1e-10;
}

#endif
