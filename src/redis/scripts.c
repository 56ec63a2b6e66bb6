/* SPDX-License-Identifier: BSD-2-Clause */
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

/* Weighted semaphore with leases, a FIFO ticket queue, fencing tokens and
 * per-ticket wake lists.
 * KEYS: [1] zset holder -> lease expiry (server ms), [2] hash holder ->
 * weight, [3] zset ticket -> queue position, [4] zset ticket -> ticket
 * expiry (server ms), [5] hash ticket -> weight, [6] string: the last
 * fencing token. A ticket id is the id its lease will have. The wake list
 * of ticket id is KEYS[1]..':k:'..id (not declared: it is named by a
 * ticket, and shares KEYS[1]'s hash tag, so it is in the same Cluster
 * slot). ARGV = op, capacity, weight, id, lease_ms, ticket_ms (unused ones
 * "0"):
 *   acq   -> {1, held, token} or {0, held, next_ms}: take the weight if it
 *            fits behind every queued ticket; never queues (try_acquire)
 *   wait  -> like acq, but a waiter that does not fit queues its ticket (or
 *            refreshes it); a ticket is admitted when it, every ticket ahead
 *            of it and the held weight fit together. {1, ...} also when id
 *            already holds (a retry after a lost reply: the lease is renewed
 *            and a new, larger token issued)
 *   leave -> {1}: withdraw ticket id, and its lease if it was granted
 *   renew -> {1} or {0} (not held: expired, or lost with the keys)
 *   rel   -> {1} or {0} (not held)
 *   held  -> {1, held, queued tickets}
 * next_ms: ms until the next lease or ticket expires (-1: none), so a
 * waiter wakes to reclaim an expiry that no script run would signal.
 *
 * Fencing token: every grant returns max(last + 1, server time in us), and
 * stores it in KEYS[6] until the server clock has passed it (PX below), so
 * tokens strictly increase from grant to grant, also when KEYS[6] expired
 * or was lost (FLUSHALL, a failover): the time part then still exceeds every
 * earlier token, unless the server clock stepped back or grants ran ahead
 * of the clock (more than one per us) just before the loss. Below 2^53 (an
 * exact double) until the year 2255.
 *
 * Wake-ups: a ticket waits for room, and room grows only when a holder
 * releases or expires or a ticket ahead leaves or expires. Each script that
 * does one of these (rel, leave, or any op whose drop_expired dropped
 * something) ends with wake_fitting: it pushes a token to the wake list of
 * every queued ticket that fits now (the queue from its head up to the
 * first that does not: later ones have more weight ahead of them). A
 * waiter blocks on its list (BLPOP) after a 'wait' that queued it; the list
 * keeps the token, so a push before the BLPOP is not lost. A ticket that
 * fits keeps fitting until it is admitted: grants and try_acquire move
 * weight from "ahead" to "held" or take only what is free behind every
 * ticket. Expiries are seen only when a script runs: next_ms bounds the
 * BLPOP of a waiter that may be waiting for one. Every op first drops
 * expired holders and tickets. Each key expires with its last lease or
 * ticket. */
static const char sem[] =
    "local tm = redis.call('TIME')\n"
    "local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)\n"
    "local cap = tonumber(ARGV[2])\n"
    "local id = ARGV[4]\n"
    "local function drop_expired(z, a, b)\n"
    "  local dead = redis.call('ZRANGEBYSCORE', z, '-inf', now)\n"
    "  for _, h in ipairs(dead) do\n"
    "    redis.call('HDEL', a, h)\n"
    "    if b then redis.call('ZREM', b, h) end\n"
    "  end\n"
    "  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end\n"
    "  return #dead\n"
    "end\n"
    /* Set the TTL of z and its companions to z's last expiry. */
    "local function expire_with_last(z, a, b)\n"
    "  local last = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')\n"
    "  if #last == 2 then\n"
    "    local ms = tonumber(last[2]) - now + 1\n"
    "    redis.call('PEXPIRE', z, ms)\n"
    "    redis.call('PEXPIRE', a, ms)\n"
    "    if b then redis.call('PEXPIRE', b, ms) end\n"
    "  end\n"
    "end\n"
    "local function held_weight()\n"
    "  local held = 0\n"
    "  for _, w in ipairs(redis.call('HVALS', KEYS[2])) do held = held + tonumber(w) end\n"
    "  return held\n"
    "end\n"
    "local function wake_key(h) return KEYS[1] .. ':k:' .. h end\n"
    "local function wake_fitting()\n"
    "  local ahead = held_weight()\n"
    "  for _, h in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do\n"
    "    ahead = ahead + (tonumber(redis.call('HGET', KEYS[5], h)) or 0)\n"
    "    if ahead > cap then return end\n"
    "    local k = wake_key(h)\n"
    "    if redis.call('LLEN', k) == 0 then redis.call('RPUSH', k, 1) end\n"
    "    redis.call('PEXPIRE', k, tonumber(ARGV[6]))\n"
    "  end\n"
    "end\n"
    /* ms until the first lease or ticket expiry, or -1. */
    "local function next_ms()\n"
    "  local n = -1\n"
    "  for _, z in ipairs({KEYS[1], KEYS[4]}) do\n"
    "    local f = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')\n"
    "    if #f == 2 and (n < 0 or tonumber(f[2]) - now < n) then n = tonumber(f[2]) - now end\n"
    "  end\n"
    "  return n\n"
    "end\n"
    "local function fence()\n"
    "  local us = tonumber(tm[1]) * 1000000 + tonumber(tm[2])\n"
    "  local t = (tonumber(redis.call('GET', KEYS[6])) or 0) + 1\n"
    "  if t < us then t = us end\n"
    "  redis.call('SET', KEYS[6], t, 'PX', tonumber(ARGV[5]) + math.floor((t - us) / 1000) + 1)\n"
    "  return t\n"
    "end\n"
    "local freed = drop_expired(KEYS[1], KEYS[2]) + drop_expired(KEYS[4], KEYS[5], KEYS[3])\n"
    "if freed > 0 then wake_fitting() end\n"
    "local held = held_weight()\n"
    "local op = ARGV[1]\n"
    "if op == 'held' then return {1, held, redis.call('ZCARD', KEYS[3])} end\n"
    "local function unqueue()\n"
    "  redis.call('ZREM', KEYS[3], id)\n"
    "  redis.call('ZREM', KEYS[4], id)\n"
    "  redis.call('HDEL', KEYS[5], id)\n"
    "  redis.call('DEL', wake_key(id))\n"
    "end\n"
    "if op == 'acq' or op == 'wait' then\n"
    "  if redis.call('ZSCORE', KEYS[1], id) then\n"
    "    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[5]), id)\n"
    "    expire_with_last(KEYS[1], KEYS[2])\n"
    "    return {1, held, fence()}\n"
    "  end\n"
    "  local w = tonumber(ARGV[3])\n"
    "  local ahead = 0\n"
    "  local queued = false\n"
    "  for _, h in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do\n"
    "    if h == id then queued = true; break end\n"
    "    ahead = ahead + (tonumber(redis.call('HGET', KEYS[5], h)) or 0)\n"
    "  end\n"
    "  if held + ahead + w <= cap then\n"
    "    unqueue()\n"
    "    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), id)\n"
    "    redis.call('HSET', KEYS[2], id, w)\n"
    "    expire_with_last(KEYS[1], KEYS[2])\n"
    "    return {1, held + w, fence()}\n"
    "  end\n"
    "  if op == 'wait' then\n"
    "    if not queued then\n"
    "      local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')\n"
    "      local pos = 1\n"
    "      if #last == 2 then pos = tonumber(last[2]) + 1 end\n"
    "      redis.call('ZADD', KEYS[3], pos, id)\n"
    "      redis.call('HSET', KEYS[5], id, w)\n"
    "    end\n"
    "    redis.call('ZADD', KEYS[4], now + tonumber(ARGV[6]), id)\n"
    "    expire_with_last(KEYS[4], KEYS[5], KEYS[3])\n"
    "  end\n"
    "  return {0, held, next_ms()}\n"
    "end\n"
    "if op == 'leave' then\n"
    "  unqueue()\n"
    "  redis.call('ZREM', KEYS[1], id)\n"
    "  redis.call('HDEL', KEYS[2], id)\n"
    "  wake_fitting()\n"
    "  return {1}\n"
    "end\n"
    "if not redis.call('ZSCORE', KEYS[1], id) then return {0} end\n"
    "if op == 'renew' then\n"
    "  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[5]), id)\n"
    "else\n"
    "  redis.call('ZREM', KEYS[1], id)\n"
    "  redis.call('HDEL', KEYS[2], id)\n"
    "  wake_fitting()\n"
    "end\n"
    "expire_with_last(KEYS[1], KEYS[2])\n"
    "return {1}\n";

const char *const lfp_rscript_text[LFP_RS_COUNT] = { gcra, sem };
