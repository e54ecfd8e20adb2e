/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_CAPTURE_H
#define _KGWTTM_CAPTURE_H

#include "toa_parse.h"

int kgwttm_capture_init(const struct toa_formats *fmts);
void kgwttm_capture_exit(void);
unsigned long kgwttm_capture_missed(void);

#endif /* _KGWTTM_CAPTURE_H */
