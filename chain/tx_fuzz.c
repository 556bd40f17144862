/* tx_fuzz.c — libFuzzer: the raw transaction decoder never crashes; an accepted transaction
 * re-encodes to the same bytes, and sender recovery on it returns (any result) without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/tx.h"

static uint8_t out[1 << 17];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tx t;
    size_t off, n;
    uint8_t addr[20];
    if (tx_decode(data, size, &t, &off) != TX_OK) {
        if (off > size)
            abort();
        return 0;
    }
    if (tx_encode(&t, out, sizeof out, &n) == TX_OK && (n != size || memcmp(out, data, size) != 0))
        abort();
    (void)tx_recover_sender(&t, addr);
    return 0;
}
