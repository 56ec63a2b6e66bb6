/* The Lua scripts lfpat-redis runs on the server. Each is atomic (Redis runs
 * one script at a time) and reads the server's clock with TIME. Lua numbers
 * are doubles: every value below stays an integer under 2^53, so +, -, *
 * are exact; the one division is corrected to an exact floor. */
#include "internal.h"

/* GCRA. KEYS[1] = hash {b = base second, a = TAT in ns since base}.
 * ARGV: T (ns per token), burst, need, want (need <= want <= burst).
 * Grants g in [need, want], as many as fit; or denies.
 * Returns {granted, remaining, retry_after_ns, reset_ns}.
 * Ranges: now - base < 2 days (1.7e14 ns); TAT - now <= burst*T < 2^50
 * (checked by the client), so every value is < 2^53. */
static const char gcra[] =
    "local t = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local need = tonumber(ARGV[3])\n"
    "local want = tonumber(ARGV[4])\n"
    "local tm = redis.call('TIME')\n"
    "local sec = tonumber(tm[1])\n"
    "local st = redis.call('HMGET', KEYS[1], 'b', 'a')\n"
    "local base = tonumber(st[1])\n"
    "local tat = tonumber(st[2])\n"
    "if base == nil or tat == nil then base = sec; tat = 0 end\n"
    "if sec - base > 86400 then\n" /* rebase once a day: exact integer shift */
    "  tat = tat - (sec - base) * 1000000000\n"
    "  base = sec\n"
    "end\n"
    "local now = (sec - base) * 1000000000 + tonumber(tm[2]) * 1000\n"
    "if tat < now then tat = now end\n"
    "local room = burst * t - (tat - now)\n"
    "local avail = math.floor(room / t)\n"
    "if avail * t > room then avail = avail - 1 end\n" /* exact floor */
    "if avail < need then\n"
    "  return {0, avail, need * t - room, tat - now}\n"
    "end\n"
    "local g = want\n"
    "if g > avail then g = avail end\n"
    "tat = tat + g * t\n"
    "redis.call('HSET', KEYS[1], 'b', base, 'a', tat)\n"
    /* The key expires when TAT <= now, where it equals a missing key. */
    "redis.call('PEXPIRE', KEYS[1], math.floor((tat - now) / 1000000) + 1)\n"
    "return {g, avail - g, 0, tat - now}\n";

/* Weighted semaphore with leases. KEYS[1] = zset holder -> expiry (server
 * ms), KEYS[2] = hash holder -> weight. ARGV = op, capacity, weight,
 * holder, lease_ms (unused ones "0"):
 *   acq   -> {1, held} or {0, held, ms until the first lease expires}
 *   renew -> {1} or {0} (holder expired)
 *   rel   -> {1} or {0} (holder expired)
 *   held  -> {1, held}
 * Every op first drops expired holders. Both keys expire with the last
 * lease. */
static const char sem[] =
    "local tm = redis.call('TIME')\n"
    "local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)\n"
    "local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)\n"
    "for _, h in ipairs(dead) do redis.call('HDEL', KEYS[2], h) end\n"
    "if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end\n"
    "local held = 0\n"
    "for _, w in ipairs(redis.call('HVALS', KEYS[2])) do held = held + tonumber(w) end\n"
    "local op = ARGV[1]\n"
    "local function expire_with_last()\n"
    "  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')\n"
    "  if #last == 2 then\n"
    "    local ms = tonumber(last[2]) - now + 1\n"
    "    redis.call('PEXPIRE', KEYS[1], ms)\n"
    "    redis.call('PEXPIRE', KEYS[2], ms)\n"
    "  end\n"
    "end\n"
    "if op == 'held' then return {1, held} end\n"
    "local id = ARGV[4]\n"
    "if op == 'acq' then\n"
    "  local w = tonumber(ARGV[3])\n"
    "  if held + w > tonumber(ARGV[2]) then\n"
    "    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
    "    local wait = 1\n"
    "    if #first == 2 then wait = tonumber(first[2]) - now end\n"
    "    return {0, held, wait}\n"
    "  end\n"
    "  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), id)\n"
    "  redis.call('HSET', KEYS[2], id, w)\n"
    "  expire_with_last()\n"
    "  return {1, held + w}\n"
    "end\n"
    "if not redis.call('ZSCORE', KEYS[1], id) then return {0} end\n"
    "if op == 'renew' then\n"
    "  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[5]), id)\n"
    "else\n"
    "  redis.call('ZREM', KEYS[1], id)\n"
    "  redis.call('HDEL', KEYS[2], id)\n"
    "end\n"
    "expire_with_last()\n"
    "return {1}\n";

const char *const lfp_rscript_text[LFP_RS_COUNT] = { gcra, sem };
