/* SPDX-License-Identifier: BSD-2-Clause */
/* lfpat from C++: std::thread producers and consumers over lfp_mpmc and
 * lfp_spsc, an lfp_counter and an lfp_striped shared by every thread, and an
 * lfp_future handed from one thread to another. The oracle is the exact
 * sequence pushed: every value popped exactly once, per-producer FIFO, sums
 * and totals exact. <thread> comes before the lfpat headers and <atomic>
 * after them on purpose (tests/cxx/check.sh covers every order). Every wait
 * has a 10 s deadline: a lost wake-up fails the test, it is never needed to
 * pass. */
#include <thread>
#include <vector>
#include <cstdio>
#include <cstdint>

#include <lfpat.h>

#include <atomic>

namespace {

constexpr unsigned kProducers = 2, kConsumers = 2;
constexpr uint64_t kPerProducer = 100000;
constexpr int64_t kBound = 10 * INT64_C(1000000000);

std::atomic<unsigned long> failures{0}, checks{0};

void check(bool ok, const char *what)
{
    checks.fetch_add(1, std::memory_order_relaxed);
    if (!ok && failures.fetch_add(1, std::memory_order_relaxed) < 10)
        std::fprintf(stderr, "cxx_threads: FAILED: %s\n", what);
}

/* A value is producer << 40 | sequence (from 1), stored as a pointer. */
void *encode(uint64_t producer, uint64_t i)
{
    return reinterpret_cast<void *>(static_cast<uintptr_t>(producer << 40 | i));
}

void mpmc_case(lfp_counter *counter, lfp_striped *striped)
{
    lfp_mpmc q;
    check(lfp_mpmc_init(&q, 64) == 0, "lfp_mpmc_init");
    constexpr uint64_t total = kProducers * kPerProducer;
    std::vector<std::vector<uint64_t>> seen(kConsumers);
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < kProducers; p++)
        threads.emplace_back([&, p] {
            for (uint64_t i = 1; i <= kPerProducer; i++) {
                int rc = lfp_mpmc_push(&q, encode(p, i), lfp_after(kBound), nullptr);
                check(rc == 0, "lfp_mpmc_push returned 0 within 10 s");
                lfp_counter_add(counter, 1);
                lfp_striped_add(striped, 1);
            }
        });
    for (unsigned c = 0; c < kConsumers; c++)
        threads.emplace_back([&, c] {
            for (uint64_t n = 0; n < total / kConsumers; n++) {
                void *v = nullptr;
                int rc = lfp_mpmc_pop(&q, &v, lfp_after(kBound), nullptr);
                check(rc == 0, "lfp_mpmc_pop returned 0 within 10 s");
                seen[c].push_back(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(v)));
                lfp_counter_add(counter, 1);
                lfp_striped_add(striped, 1);
            }
        });
    for (auto &t : threads)
        t.join();
    /* Exactly once: each (producer, sequence) popped once. Per-producer FIFO:
     * within one consumer, a producer's values arrive in push order. */
    std::vector<std::vector<bool>> got(kProducers, std::vector<bool>(kPerProducer + 1));
    uint64_t popped = 0;
    for (auto &s : seen) {
        std::vector<uint64_t> last(kProducers, 0);
        for (uint64_t v : s) {
            uint64_t p = v >> 40, i = v & ((UINT64_C(1) << 40) - 1);
            if (p >= kProducers || i == 0 || i > kPerProducer) {
                check(false, "lfp_mpmc_pop returned a value never pushed");
                continue;
            }
            check(!got[p][i], "lfp_mpmc value popped once");
            got[p][i] = true;
            check(i > last[p], "lfp_mpmc per-producer FIFO");
            last[p] = i;
            popped++;
        }
    }
    check(popped == total, "lfp_mpmc every value popped");
    void *v;
    check(lfp_mpmc_try_pop(&q, &v) == EAGAIN, "lfp_mpmc empty at the end");
    lfp_mpmc_destroy(&q);
}

void spsc_case()
{
    lfp_spsc q;
    check(lfp_spsc_init(&q, 16) == 0, "lfp_spsc_init");
    uint64_t sum = 0, next = 1;
    std::thread consumer([&] {
        for (uint64_t n = 0; n < kPerProducer; n++) {
            void *v = nullptr;
            check(lfp_spsc_pop(&q, &v, lfp_after(kBound), nullptr) == 0,
                  "lfp_spsc_pop returned 0 within 10 s");
            uint64_t i = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(v));
            check(i == next, "lfp_spsc FIFO");
            next = i + 1;
            sum += i;
        }
    });
    std::thread producer([&] {
        for (uint64_t i = 1; i <= kPerProducer; i++)
            check(lfp_spsc_push(&q, encode(0, i), lfp_after(kBound), nullptr) == 0,
                  "lfp_spsc_push returned 0 within 10 s");
    });
    producer.join();
    consumer.join();
    check(sum == kPerProducer * (kPerProducer + 1) / 2, "lfp_spsc sum");
    lfp_spsc_destroy(&q);
}

void future_case()
{
    lfp_future f;
    check(lfp_future_init(&f) == 0, "lfp_future_init");
    int payload = 42;
    std::thread setter([&] { check(lfp_future_set(&f, &payload, 7) == 0, "lfp_future_set"); });
    void *value = nullptr;
    int error = 0;
    check(lfp_future_get(&f, &value, &error, lfp_after(kBound), nullptr) == 0,
          "lfp_future_get returned 0 within 10 s");
    check(value == &payload && error == 7, "lfp_future value and error");
    /* The set happens-before the get: the payload written before it is seen. */
    check(*static_cast<int *>(value) == 42, "lfp_future publishes the payload");
    setter.join();
    check(lfp_future_set(&f, nullptr, 0) == EALREADY, "lfp_future first set wins");
}

} // namespace

int main()
{
    lfp_counter counter;
    lfp_counter_init(&counter, 0);
    lfp_striped striped;
    check(lfp_striped_init(&striped, 0) == 0, "lfp_striped_init");
    mpmc_case(&counter, &striped);
    spsc_case();
    future_case();
    int64_t expect = 2 * static_cast<int64_t>(kProducers * kPerProducer);
    check(lfp_counter_get(&counter) == expect, "lfp_counter total");
    check(lfp_striped_sum(&striped) == expect, "lfp_striped total");
    lfp_striped_destroy(&striped);
    std::printf("cxx_threads: %lu checks, %lu failures, %llu ops\n", checks.load(),
                failures.load(), static_cast<unsigned long long>(expect + 2 * kPerProducer));
    return failures.load() ? 1 : 0;
}
