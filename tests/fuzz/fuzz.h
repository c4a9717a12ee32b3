/*
 * fuzz.h - what the libFuzzer targets share: taking a leading control byte
 * off the input.
 */
#ifndef HYVE_FUZZ_H
#define HYVE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The input's first byte in *b, the rest left in *data, *size; false if empty. */
static inline bool fuzz_take_byte(const uint8_t **data, size_t *size, uint8_t *b)
{
	if (*size < 1)
		return false;
	*b = (*data)[0];
	(*data)++;
	(*size)--;
	return true;
}

#endif
