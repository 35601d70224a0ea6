/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Functions that are easy to misuse with untrusted sizes.  Including this
 * header makes any use of them a compile error; use snprintf, memcpy with a
 * checked length, or strtoull with an end pointer instead.
 */
#ifndef CRASHKIT_BANNED_H
#define CRASHKIT_BANNED_H

#define CK_BANNED(func) sorry_##func##_is_banned_in_crashkit

#undef strcpy
#define strcpy(x, y) CK_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CK_BANNED(strcat)
#undef sprintf
#define sprintf(...) CK_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CK_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) CK_BANNED(strtok)
#undef gets
#define gets(x) CK_BANNED(gets)
#undef atoi
#define atoi(x) CK_BANNED(atoi)

#endif /* CRASHKIT_BANNED_H */
