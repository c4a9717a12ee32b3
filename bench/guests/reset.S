/*
 * reset.S - bench/startup guest: ends at once (i8042 reset, else a triple
 * fault; see head.inc).
 */
#include "head.inc"
	GUEST_END
