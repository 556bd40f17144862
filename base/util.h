/* base/util.h: the few macros every module would otherwise define again. No functions, no state. */
#ifndef OB_BASE_UTIL_H
#define OB_BASE_UTIL_H

/* Elements of an array (not a pointer): option tables, test vectors. */
#define OB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
