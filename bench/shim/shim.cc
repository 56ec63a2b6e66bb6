/* SPDX-License-Identifier: BSD-2-Clause */
// bench/shim/shim.cc — the C++ side of the C shim over google benchmark.
#include "shim.h"

#include <benchmark/benchmark.h>

struct lfpb_state {
    benchmark::State *s;
};

extern "C" {

static void run(benchmark::State &s, lfpb_fn fn, void *arg)
{
    lfpb_state st{&s};
    fn(&st, arg);
}

void lfpb_register(const char *name, lfpb_fn fn, void *arg, int threads)
{
    auto *b = benchmark::RegisterBenchmark(name, run, fn, arg);
    b->UseRealTime();
    if (threads >= 1)
        b->Threads(threads);
}

void lfpb_register_manual(const char *name, lfpb_fn fn, void *arg)
{
    benchmark::RegisterBenchmark(name, run, fn, arg)->UseManualTime();
}

bool lfpb_keep_running(lfpb_state *st) { return st->s->KeepRunning(); }
bool lfpb_keep_running_batch(lfpb_state *st, int64_t n)
{
    return st->s->KeepRunningBatch(static_cast<benchmark::IterationCount>(n));
}
int64_t lfpb_iterations(const lfpb_state *st) { return static_cast<int64_t>(st->s->iterations()); }
int64_t lfpb_max_iterations(const lfpb_state *st) { return static_cast<int64_t>(st->s->max_iterations); }
int lfpb_thread_index(const lfpb_state *st) { return st->s->thread_index(); }
int lfpb_threads(const lfpb_state *st) { return st->s->threads(); }
void lfpb_pause_timing(lfpb_state *st) { st->s->PauseTiming(); }
void lfpb_resume_timing(lfpb_state *st) { st->s->ResumeTiming(); }
void lfpb_set_iteration_time(lfpb_state *st, double seconds) { st->s->SetIterationTime(seconds); }
void lfpb_set_items(lfpb_state *st, int64_t items) { st->s->SetItemsProcessed(items); }
void lfpb_set_counter(lfpb_state *st, const char *name, double value)
{
    st->s->counters[name] = benchmark::Counter(value, benchmark::Counter::kAvgThreads);
}
void lfpb_skip_with_error(lfpb_state *st, const char *msg) { st->s->SkipWithError(msg); }
void lfpb_do_not_optimize(void *p) { benchmark::DoNotOptimize(p); }

int lfpb_main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // extern "C"
