/*
 * fault.h - fault injection for testing how ranks agree on failure.
 *
 * TC_FAULT="RANK:PHASE[,RANK:PHASE...]" makes rank RANK record a runtime
 * error at the named fault point, as an allocation or I/O failure would.
 * PHASE is one of load, generate, build, simulate, output; RANK is a
 * decimal rank or "*" for every rank. Each point sits just before the
 * collective agreement that ends its phase, so a test can check that every
 * other rank learns of the failure and exits instead of waiting in a
 * collective.
 */
#ifndef TC_FAULT_H
#define TC_FAULT_H

#include "error.h"

/* Record an injected runtime error in ERR when TC_FAULT names this rank
 * and PHASE; returns ERR's code (TC_OK when nothing was injected). Local. */
int tc_fault_point(const char *phase, tc_error *err);

#endif
