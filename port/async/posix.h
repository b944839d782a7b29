/* SPDX-License-Identifier: MIT */
/* <async/posix.h>, the name the installed header has, for builds from the
 * source tree too (a meson subproject, or -Iport): one spelling works
 * everywhere. */
#include "../posix.h"
