/* SPDX-License-Identifier: BSD-2-Clause */
// bench/qbench/peers.cc — the C++ queue peers of lfpat_qbench: boost::lockfree
// spsc_queue and queue, moodycamel ReaderWriterQueue and ConcurrentQueue,
// TBB concurrent_bounded_queue. Each is used as its authors recommend for
// speed (moodycamel ConcurrentQueue with producer and consumer tokens) and
// bounded where the queue can be: try_enqueue into preallocated capacity, so
// that no peer is measured as an unbounded queue against bounded ones.
#include <new>

#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <readerwriterqueue/readerwriterqueue.h>
#include <tbb/concurrent_queue.h>

#include "qbench.h"

namespace {

template <class Q> void destroy_q(void *q) { delete static_cast<Q *>(q); }

// ------------------------------------------------------ boost::lockfree
using boost_spsc = boost::lockfree::spsc_queue<uint64_t>;
void *boost_spsc_create(size_t cap, int, int) { return new boost_spsc(cap); }
qb_tally boost_spsc_produce(void *qv, qb_run *run, int id)
{
    auto *q = static_cast<boost_spsc *>(qv);
    qb_tally tally{};
    QB_PRODUCE(run, id, q->push(v));
    return tally;
}
qb_tally boost_spsc_consume(void *qv, qb_run *run, int)
{
    auto *q = static_cast<boost_spsc *>(qv);
    qb_tally tally{};
    QB_CONSUME(run, q->pop(v));
    return tally;
}

using boost_mpmc = boost::lockfree::queue<uint64_t>;
void *boost_mpmc_create(size_t cap, int, int) { return new boost_mpmc(cap); }
qb_tally boost_mpmc_produce(void *qv, qb_run *run, int id)
{
    auto *q = static_cast<boost_mpmc *>(qv);
    qb_tally tally{};
    QB_PRODUCE(run, id, q->bounded_push(v));   // never allocates: bounded
    return tally;
}
qb_tally boost_mpmc_consume(void *qv, qb_run *run, int)
{
    auto *q = static_cast<boost_mpmc *>(qv);
    qb_tally tally{};
    QB_CONSUME(run, q->pop(v));
    return tally;
}

// ------------------------------------------------------ moodycamel
using rwq = moodycamel::ReaderWriterQueue<uint64_t>;
void *rwq_create(size_t cap, int, int) { return new rwq(cap); }
qb_tally rwq_produce(void *qv, qb_run *run, int id)
{
    auto *q = static_cast<rwq *>(qv);
    qb_tally tally{};
    QB_PRODUCE(run, id, q->try_enqueue(v));    // try_: no allocation past cap
    return tally;
}
qb_tally rwq_consume(void *qv, qb_run *run, int)
{
    auto *q = static_cast<rwq *>(qv);
    qb_tally tally{};
    QB_CONSUME(run, q->try_dequeue(v));
    return tally;
}

using mcq = moodycamel::ConcurrentQueue<uint64_t>;
// Capacity for cap items whichever producer enqueues, explicit producers only.
void *mcq_create(size_t cap, int producers, int) { return new mcq(cap, (size_t)producers, 0); }
qb_tally mcq_produce(void *qv, qb_run *run, int id)
{
    auto *q = static_cast<mcq *>(qv);
    moodycamel::ProducerToken tok(*q);
    qb_tally tally{};
    QB_PRODUCE(run, id, q->try_enqueue(tok, v));
    return tally;
}
qb_tally mcq_consume(void *qv, qb_run *run, int)
{
    auto *q = static_cast<mcq *>(qv);
    moodycamel::ConsumerToken tok(*q);
    qb_tally tally{};
    QB_CONSUME(run, q->try_dequeue(tok, v));
    return tally;
}

// ------------------------------------------------------ TBB
// concurrent_bounded_queue is a blocking queue: push waits for room, pop for
// an item. Consumers stop at a 0 sentinel, one per consumer, pushed after
// every producer has finished (the queue is FIFO, so every real item is
// popped before the sentinels).
using tbbq = tbb::concurrent_bounded_queue<uint64_t>;
void *tbb_create(size_t cap, int, int)
{
    auto *q = new tbbq;
    q->set_capacity((std::ptrdiff_t)cap);
    return q;
}
qb_tally tbb_produce(void *qv, qb_run *run, int id)
{
    auto *q = static_cast<tbbq *>(qv);
    qb_tally tally{};
    for (uint64_t i = 0;; i++) {
        if ((i & 63) == 0 && qb_stopped(run))
            break;
        uint64_t v = qb_value(id, i);
        q->push(v);
        tally.count++;
        tally.sum += v;
    }
    return tally;
}
qb_tally tbb_consume(void *qv, qb_run *, int)
{
    auto *q = static_cast<tbbq *>(qv);
    qb_tally tally{};
    for (;;) {
        uint64_t v = 0;
        q->pop(v);
        if (v == 0)
            break;
        tally.count++;
        tally.sum += v;
    }
    return tally;
}
void tbb_close(void *qv, int consumers)
{
    auto *q = static_cast<tbbq *>(qv);
    for (int i = 0; i < consumers; i++)
        q->push(0);
}

}  // namespace

extern "C" const qb_impl qb_cxx_impls[] = {
    {"boost_spsc_queue", QB_PEER, QB_SPSC, false, boost_spsc_create, destroy_q<boost_spsc>,
     boost_spsc_produce, boost_spsc_consume, nullptr},
    {"moodycamel_rwqueue", QB_PEER, QB_SPSC, false, rwq_create, destroy_q<rwq>, rwq_produce,
     rwq_consume, nullptr},
    {"boost_lockfree_queue", QB_PEER, QB_MPMC, false, boost_mpmc_create, destroy_q<boost_mpmc>,
     boost_mpmc_produce, boost_mpmc_consume, nullptr},
    {"moodycamel_cqueue", QB_PEER, QB_MPMC, false, mcq_create, destroy_q<mcq>, mcq_produce,
     mcq_consume, nullptr},
    {"tbb_bounded_queue", QB_PEER, QB_MPMC, true, tbb_create, destroy_q<tbbq>, tbb_produce,
     tbb_consume, tbb_close},
};
extern "C" const size_t qb_cxx_impl_count = sizeof qb_cxx_impls / sizeof qb_cxx_impls[0];
