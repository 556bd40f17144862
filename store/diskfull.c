/* diskfull.c - st_io_errno (see store.h): a full disk called by its name.
 * statfs(2), not statvfs(3): <sys/statvfs.h> defines ST_RDONLY, which store.h defines too (an open flag). */
#include <sys/vfs.h>

#include <errno.h>
#include <stdint.h>

#include "store/store.h"

/* LMDB reports a write cut short by a full disk as EIO (it cannot tell a short write from a failing
 * device). Said that way, an operator looks for a broken disk; so when the filesystem under the env
 * has (almost) no room left, the error is ENOSPC, "No space left on device". */
int
st_io_errno(st_env *env, int rc)
{
	struct statfs fs;
	if (rc == EIO && env && statfs(st_dir(env), &fs) == 0 &&
	    (uint64_t)fs.f_bavail * (uint64_t)fs.f_bsize < (1u << 20))
		return ENOSPC;
	return rc;
}
