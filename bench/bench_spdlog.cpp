// SPDX-License-Identifier: MIT
// bench_spdlog.cpp - the C/C++ peer of bench_writer: spdlog's asynchronous logger (Debian's
// libspdlog-dev), measured the way bench_writer measures liblog, so that the two print
// comparable figures in one session:
//  - ns per event on the calling thread: the median of bursts of 100,000 events into a
//    queue large enough that a burst never waits (2^21 slots);
//  - sustained events/s to a file with nothing dropped (overflow policy: block), close
//    included, and bytes per event on disk.
// One event = one log call carrying what bench_writer's event carries: an action name, a
// task number and two int fields ("action {} id={} a={} b={}"). spdlog formats on its
// worker thread; the calling thread copies the arguments into the queue.
//
// Usage: bench_spdlog [--seconds S] [--reps N] [--out DIR]
// Built only when libspdlog-dev is installed (scripts/deps.sh --bench); never a test.
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace
{

constexpr int burst_events = 100000;

double now_s()
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
	    .count();
}

std::shared_ptr<spdlog::async_logger> make_logger(const std::string &path, size_t queue)
{
	spdlog::init_thread_pool(queue, 1);
	auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
	auto log = std::make_shared<spdlog::async_logger>("bench", sink, spdlog::thread_pool(),
							  spdlog::async_overflow_policy::block);
	log->set_pattern("%Y-%m-%d %H:%M:%S.%f %t %v"); // a timestamp, the thread, the event
	return log;
}

} // namespace

int main(int argc, char **argv)
{
	double seconds = 2;
	int reps = 11;
	std::string out = "/tmp";
	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = std::atof(argv[++i]);
		else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = std::atoi(argv[++i]);
		else if (!std::strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else {
			std::fprintf(stderr,
				     "usage: bench_spdlog [--seconds S] [--reps N] [--out DIR]\n");
			return 2;
		}
	}
	if (seconds <= 0 || reps < 1) {
		std::fprintf(stderr, "bench_spdlog: --seconds and --reps must be positive\n");
		return 2;
	}
	std::string path = out + "/bench_spdlog." + std::to_string(getpid()) + ".log";

	// Calling thread: bursts into a queue that never fills; the worker drains between.
	std::vector<double> ns;
	{
		auto log = make_logger(path, 1u << 21);
		for (int r = 0; r < reps; r++) {
			double t0 = now_s();
			for (int i = 0; i < burst_events; i++)
				log->info("action {} id={} a={} b={}", "bench", i, i, 2 * i);
			ns.push_back((now_s() - t0) * 1e9 / burst_events);
			log->flush();
			usleep(200000); // let the worker drain the burst before the next one
		}
		spdlog::shutdown();
	}
	std::sort(ns.begin(), ns.end());

	// Sustained: as many events as the worker takes in the time, nothing dropped.
	unsigned long long events = 0;
	double elapsed;
	{
		auto log = make_logger(path, 8192); // spdlog's default queue
		double t0 = now_s(), end = t0 + seconds;
		while (now_s() < end)
			for (int i = 0; i < 1000; i++, events++)
				log->info("action {} id={} a={} b={}", "bench", events, i, 2 * i);
		log->flush();
		spdlog::shutdown();
		elapsed = now_s() - t0;
	}
	struct stat st;
	double bytes = stat(path.c_str(), &st) == 0 ? (double)st.st_size : 0;
	unlink(path.c_str());

	std::printf("bench_spdlog: spdlog %d.%d.%d async logger (1 worker, block on overflow), "
		    "basic_file_sink\n",
		    SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
	std::printf("record, ns/event (calling thread, median of %d bursts of %d)  %.1f\n", reps,
		    burst_events, ns[ns.size() / 2]);
	std::printf("sustained, M events/s (elapsed incl. flush)                  %.2f\n",
		    events / elapsed / 1e6);
	std::printf("bytes/event on disk                                          %.1f\n",
		    events ? bytes / (double)events : 0.0);
	return 0;
}
