// CUDA emulation for g++ (C++20): the tests compile every kernel source with this header forced in
// (-include) and run its device code on host threads, through the same launch code the GPU uses.
//
// Execution model. A launch creates one team of blockDim.x*y*z std::threads. The team runs the
// blocks one after another, in blockIdx order, and meets at a team barrier between blocks. Because
// only one block of a launch is alive at a time (and the runtime never runs two launches of one
// module at once), a function-local `static` is exactly block-shared memory: that is what
// __shared__ expands to. Dynamic shared memory is one per-launch buffer, refilled with 0xFF
// (NaN / -1) before every block so a kernel that reads it before writing it shows up.
// __syncthreads is a barrier across the block's threads; a thread that has returned from the kernel
// no longer counts, as on the hardware. Warp collectives (shuffles, votes, __syncwarp) rendezvous the
// live lanes of their mask inside one warp of 32 consecutive linear thread ids; the last warp of a
// block may be partial.
//
// Independent blocks. When a kernel source shows no block-level cooperation (EmulationCompiler reads
// the text: no shared memory, barriers or warp collectives), the team skips the barrier between
// blocks and each thread runs its part of every block straight through: CUDA promises no order
// between blocks, and the barriers' thread wake-ups are most of the emulator's cost. Should such a
// kernel still reach a barrier, a collective or dynamic shared memory (say through a header), the
// launch fails rather than run unsynchronised.
//
// Failures. A kernel that throws or calls __trap ends its launch with an error message instead of
// killing the process, and so does a launch configuration CUDA would reject. A deadlock (every live
// thread of a block asleep in barriers or collectives the others never reach) is detected and fails
// the launch after about half a second. Out-of-bounds memory
// accesses are not caught: they corrupt or crash the process as they would corrupt the GPU.
#pragma once
#define NATIVESEG_EMULATION 1

#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <math.h>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
#define __constant__
#define __managed__
#define __align__(n) __attribute__((aligned(n)))
// g++ knows __restrict__ as a keyword already.

struct uint3 { unsigned int x, y, z; };

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return {x, y, z}; }
};

#define NS_EMULATION_VECTOR2(name, type, align) \
    struct __attribute__((aligned(align))) name { type x, y; }; \
    static inline name make_##name(type x, type y) { return {x, y}; }
#define NS_EMULATION_VECTOR3(name, type) \
    struct name { type x, y, z; }; \
    static inline name make_##name(type x, type y, type z) { return {x, y, z}; }
#define NS_EMULATION_VECTOR4(name, type, align) \
    struct __attribute__((aligned(align))) name { type x, y, z, w; }; \
    static inline name make_##name(type x, type y, type z, type w) { return {x, y, z, w}; }
NS_EMULATION_VECTOR2(float2, float, 8)
NS_EMULATION_VECTOR3(float3, float)
NS_EMULATION_VECTOR4(float4, float, 16)
NS_EMULATION_VECTOR2(int2, int, 8)
NS_EMULATION_VECTOR3(int3, int)
NS_EMULATION_VECTOR4(int4, int, 16)
NS_EMULATION_VECTOR2(uint2, unsigned int, 8)
NS_EMULATION_VECTOR4(uint4, unsigned int, 16)
NS_EMULATION_VECTOR2(double2, double, 16)
NS_EMULATION_VECTOR2(longlong2, long long, 16)
static inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return {x, y, z}; }
#undef NS_EMULATION_VECTOR2
#undef NS_EMULATION_VECTOR3
#undef NS_EMULATION_VECTOR4

namespace ns_emulation {

// Raised by __trap and by misuse of a warp collective; ends the launch with its message.
struct Trap : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What the team's threads share to notice a deadlock: every live thread of the block asleep in a
// barrier or warp collective and nothing released since, e.g. a __syncthreads in divergent code.
struct Progress {
    std::atomic<unsigned> waiting{0};   // threads asleep and not yet released
    std::atomic<unsigned> finished{0};  // threads that returned from the kernel in this block
    std::atomic<unsigned long long> releases{0};
    std::atomic<bool> deadlocked{false};
    unsigned threads = 0;

    void released(unsigned& sleepers)
    {
        waiting -= sleepers;
        sleepers = 0;
        releases++;
    }

    // Sleeps until `done`; throws Trap on deadlock after `abandon` has withdrawn the arrival.
    template <class Done, class Abandon>
    void wait(std::unique_lock<std::mutex>& lock, std::condition_variable& wake, unsigned& sleepers, Done done, Abandon abandon)
    {
        sleepers++;
        waiting++;
        unsigned long long seen = releases.load();
        int quiet = 0;
        while (!done()) {
            if (wake.wait_for(lock, std::chrono::milliseconds(250)) != std::cv_status::timeout || done()) continue;
            unsigned long long now = releases.load();
            quiet = now == seen && waiting.load() == threads - finished.load() ? quiet + 1 : 0;
            seen = now;
            if (quiet >= 2) deadlocked = true;
            if (deadlocked) {
                sleepers--;
                waiting--;
                abandon();
                throw Trap("deadlock: every live thread of the block waits at __syncthreads or a warp collective "
                           "that the others never reach (a barrier in divergent code?)");
            }
        }
    }
};

// __syncthreads across a block; a thread that returned from the kernel no longer counts.
struct Block {
    Progress* progress = nullptr;
    std::mutex mutex;
    std::condition_variable wake;
    unsigned threads = 0;
    unsigned exited = 0;
    unsigned arrived = 0;
    unsigned sleepers = 0;
    unsigned generation = 0;
    int accumulated = 0;
    int result = 0;

    bool try_release()
    {
        if (arrived == 0 || arrived < threads - exited) return false;
        result = accumulated;
        accumulated = 0;
        arrived = 0;
        generation++;
        progress->released(sleepers);
        wake.notify_all();
        return true;
    }
};

// The collectives of one mask inside one warp. Values are double-buffered by generation: a lane can
// only write phase g+2 after every participant arrived at g+1, so phase g stays readable meanwhile.
struct WarpSlot {
    unsigned mask = 0;
    unsigned arrived = 0;
    unsigned sleepers = 0;
    unsigned generation = 0;
    unsigned participants[2] = {0, 0};
    unsigned long long values[2][32] = {};
};

struct Warp {
    Progress* progress = nullptr;
    std::mutex mutex;
    std::condition_variable wake;
    unsigned lanes = 0;   // lanes that exist (the block's last warp may be partial)
    unsigned exited = 0;  // lanes that returned from the kernel in the current block
    std::deque<WarpSlot> slots;  // deque: references stay valid as masks are added

    WarpSlot& slot(unsigned mask)
    {
        for (auto& s : slots) if (s.mask == mask) return s;
        slots.emplace_back().mask = mask;
        return slots.back();
    }

    bool try_release(WarpSlot& s)
    {
        unsigned live = s.mask & lanes & ~exited;
        if (s.arrived == 0 || (live & ~s.arrived) != 0) return false;
        s.participants[s.generation & 1] = s.arrived;
        s.arrived = 0;
        s.generation++;
        progress->released(s.sleepers);
        wake.notify_all();
        return true;
    }
};

struct Launch;

struct BetweenBlocks {
    Launch* launch;
    void operator()() noexcept;
};

struct Launch {
    void (*kernel)(void**);
    void** args;
    dim3 grid, block;
    unsigned threads;
    unsigned long long blocks;
    size_t shared_bytes;
    std::unique_ptr<unsigned char[]> shared;
    Progress progress;
    Block sync;
    std::vector<Warp> warps;
    std::barrier<BetweenBlocks> team;
    std::mutex failure_mutex;
    std::string failure;
    std::atomic<bool> failed{false};
    // Copied from `failed` only while the whole team waits between blocks, so every thread reads
    // the same value and leaves the block loop together.
    bool stop = false;
    // Set when the source shows no block-level cooperation (no shared memory, barriers or warp
    // collectives): each thread then runs its part of every block with no team barrier in between,
    // which is valid since CUDA blocks may run in any order. Cooperation seen at run time traps.
    bool independent;

    Launch(void (*k)(void**), void** a, dim3 g, dim3 b, size_t bytes, bool independent_blocks)
        : kernel(k), args(a), grid(g), block(b), threads(b.x * b.y * b.z),
          blocks((unsigned long long)g.x * g.y * g.z), shared_bytes(bytes),
          shared(new unsigned char[bytes > 0 ? bytes : 16]), warps((threads + 31) / 32),
          team((std::ptrdiff_t)threads, BetweenBlocks{this}), independent(independent_blocks)
    {
        progress.threads = threads;
        sync.progress = &progress;
        sync.threads = threads;
        for (size_t w = 0; w < warps.size(); w++) {
            unsigned count = threads - (unsigned)w * 32 < 32 ? threads - (unsigned)w * 32 : 32;
            warps[w].progress = &progress;
            warps[w].lanes = count == 32 ? 0xffffffffu : (1u << count) - 1;
        }
        reset_block();
    }

    void reset_block()
    {
        sync.exited = 0;
        progress.finished = 0;
        for (auto& w : warps) { w.exited = 0; w.slots.clear(); }
        std::memset(shared.get(), 0xff, shared_bytes);
        stop = failed.load();
    }

    void fail(const std::string& message)
    {
        std::lock_guard lock(failure_mutex);
        if (!failed.exchange(true)) failure = message;
    }
};

inline void BetweenBlocks::operator()() noexcept { launch->reset_block(); }

}  // namespace ns_emulation

static thread_local uint3 threadIdx;
static thread_local uint3 blockIdx;
static thread_local dim3 blockDim;
static thread_local dim3 gridDim;
static constexpr int warpSize = 32;
static thread_local ns_emulation::Launch* ns_emulation_current;
static thread_local unsigned ns_emulation_linear;

static inline ns_emulation::Launch& ns_emulation_cooperating(const char* feature)
{
    auto& launch = *ns_emulation_current;
    if (launch.independent)
        throw ns_emulation::Trap(std::string("the emulator found no block-level cooperation in this kernel's source, yet it used ") +
                                 feature + "; name it in the source (EmulationCompiler looks for it)");
    return launch;
}

static inline void* ns_emulation_dynamic_shared() { return ns_emulation_cooperating("dynamic shared memory").shared.get(); }

[[noreturn]] static inline void __trap() { throw ns_emulation::Trap("__trap() called"); }

// ---- block barrier ----------------------------------------------------------------------------

static inline int ns_emulation_sync(int contribution)
{
    auto& b = ns_emulation_cooperating("__syncthreads").sync;
    std::unique_lock lock(b.mutex);
    b.arrived++;
    b.accumulated += contribution;
    unsigned generation = b.generation;
    if (!b.try_release())
        b.progress->wait(lock, b.wake, b.sleepers, [&] { return b.generation != generation; },
                         [&] { b.arrived--; b.accumulated -= contribution; });
    return b.result;
}

static inline void __syncthreads() { ns_emulation_sync(0); }
static inline int __syncthreads_count(int predicate) { return ns_emulation_sync(predicate != 0); }
static inline int __syncthreads_or(int predicate) { return ns_emulation_sync(predicate != 0) != 0; }
static inline int __syncthreads_and(int predicate)
{
    return ns_emulation_sync(predicate == 0) == 0;
}

static inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
static inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
static inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
static inline void __nanosleep(unsigned) { std::this_thread::yield(); }

// ---- warp collectives -------------------------------------------------------------------------

// Rendezvous of the live lanes of `mask` in this thread's warp; `read` sees every participant's
// value (bits, zero-extended) and the participant mask, under the warp's lock.
template <class Read>
static inline auto ns_emulation_warp(unsigned mask, unsigned long long value, Read read)
{
    auto& w = ns_emulation_cooperating("a warp collective").warps[ns_emulation_linear / 32];
    unsigned lane = ns_emulation_linear % 32;
    if (((mask >> lane) & 1u) == 0)
        throw ns_emulation::Trap("warp collective called by lane " + std::to_string(lane) + " outside its mask");
    std::unique_lock lock(w.mutex);
    auto& s = w.slot(mask);
    unsigned generation = s.generation;
    unsigned phase = generation & 1;
    s.values[phase][lane] = value;
    s.arrived |= 1u << lane;
    if (!w.try_release(s))
        w.progress->wait(lock, w.wake, s.sleepers, [&] { return s.generation != generation; },
                         [&] { s.arrived &= ~(1u << lane); });
    return read(s.values[phase], s.participants[phase]);
}

template <class T>
static inline unsigned long long ns_emulation_bits(T v)
{
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp shuffles move at most 8 bytes");
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
}

template <class T>
static inline T ns_emulation_from_bits(unsigned long long bits)
{
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}

// Reads lane `source` of the exchange; a lane that did not take part (absent, exited, outside the
// mask) yields the caller's own value, as the hardware leaves it undefined.
template <class T>
static inline T ns_emulation_shuffle(unsigned mask, T var, int source)
{
    return ns_emulation_warp(mask, ns_emulation_bits(var), [&](const unsigned long long* values, unsigned participants) {
        if (source < 0 || source >= 32 || ((participants >> source) & 1u) == 0) return var;
        return ns_emulation_from_bits<T>(values[source]);
    });
}

template <class T>
static inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize)
{
    int lane = (int)(ns_emulation_linear % 32);
    int source = (lane & ~(width - 1)) + (srcLane & (width - 1));
    return ns_emulation_shuffle(mask, var, source);
}

template <class T>
static inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize)
{
    int lane = (int)(ns_emulation_linear % 32);
    int source = (lane & (width - 1)) - (int)delta < 0 ? lane : lane - (int)delta;
    return ns_emulation_shuffle(mask, var, source);
}

template <class T>
static inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize)
{
    int lane = (int)(ns_emulation_linear % 32);
    int source = (lane & (width - 1)) + (int)delta >= width ? lane : lane + (int)delta;
    return ns_emulation_shuffle(mask, var, source);
}

template <class T>
static inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize)
{
    int lane = (int)(ns_emulation_linear % 32);
    int source = lane ^ laneMask;
    // Lanes may read earlier width-groups but reading a later one gives back their own value.
    if (source >= (lane & ~(width - 1)) + width) source = lane;
    return ns_emulation_shuffle(mask, var, source);
}

static inline unsigned __ballot_sync(unsigned mask, int predicate)
{
    return ns_emulation_warp(mask, predicate != 0, [](const unsigned long long* values, unsigned participants) {
        unsigned ballot = 0;
        for (int l = 0; l < 32; l++)
            if (((participants >> l) & 1u) && values[l]) ballot |= 1u << l;
        return ballot;
    });
}

static inline int __all_sync(unsigned mask, int predicate)
{
    return ns_emulation_warp(mask, predicate != 0, [](const unsigned long long* values, unsigned participants) {
        for (int l = 0; l < 32; l++)
            if (((participants >> l) & 1u) && !values[l]) return 0;
        return 1;
    });
}

static inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }

static inline void __syncwarp(unsigned mask = 0xffffffffu)
{
    ns_emulation_warp(mask, 0, [](const unsigned long long*, unsigned) { return 0; });
}

// Lanes of this warp that exist and have not returned; the hardware reports the converged lanes,
// which under emulation (no divergence tracking) are all of them.
static inline unsigned __activemask()
{
    auto& w = ns_emulation_cooperating("a warp collective").warps[ns_emulation_linear / 32];
    std::lock_guard lock(w.mutex);
    return w.lanes & ~w.exited;
}

template <class T>
static inline unsigned __match_any_sync(unsigned mask, T value)
{
    unsigned lane = ns_emulation_linear % 32;
    return ns_emulation_warp(mask, ns_emulation_bits(value), [&](const unsigned long long* values, unsigned participants) {
        unsigned same = 0;
        for (int l = 0; l < 32; l++)
            if (((participants >> l) & 1u) && values[l] == values[lane]) same |= 1u << l;
        return same;
    });
}

template <class T, class Combine>
static inline T ns_emulation_warp_reduce(unsigned mask, T value, Combine combine)
{
    return ns_emulation_warp(mask, ns_emulation_bits(value), [&](const unsigned long long* values, unsigned participants) {
        bool first = true;
        T total{};
        for (int l = 0; l < 32; l++) {
            if (((participants >> l) & 1u) == 0) continue;
            T v = ns_emulation_from_bits<T>(values[l]);
            total = first ? v : combine(total, v);
            first = false;
        }
        return total;
    });
}

static inline unsigned __reduce_add_sync(unsigned mask, unsigned v) { return ns_emulation_warp_reduce(mask, v, [](unsigned a, unsigned b) { return a + b; }); }
static inline int __reduce_add_sync(unsigned mask, int v) { return ns_emulation_warp_reduce(mask, v, [](int a, int b) { return (int)((unsigned)a + (unsigned)b); }); }
static inline unsigned __reduce_min_sync(unsigned mask, unsigned v) { return ns_emulation_warp_reduce(mask, v, [](unsigned a, unsigned b) { return a < b ? a : b; }); }
static inline int __reduce_min_sync(unsigned mask, int v) { return ns_emulation_warp_reduce(mask, v, [](int a, int b) { return a < b ? a : b; }); }
static inline unsigned __reduce_max_sync(unsigned mask, unsigned v) { return ns_emulation_warp_reduce(mask, v, [](unsigned a, unsigned b) { return a > b ? a : b; }); }
static inline int __reduce_max_sync(unsigned mask, int v) { return ns_emulation_warp_reduce(mask, v, [](int a, int b) { return a > b ? a : b; }); }

// ---- atomics ----------------------------------------------------------------------------------

template <class T>
static inline std::atomic_ref<T> ns_emulation_atomic(T* address) { return std::atomic_ref<T>(*address); }

template <class T, class Update>
static inline T ns_emulation_atomic_update(T* address, Update update)
{
    auto a = ns_emulation_atomic(address);
    T old = a.load();
    while (!a.compare_exchange_weak(old, update(old))) {}
    return old;
}

static inline int atomicAdd(int* a, int v) { return ns_emulation_atomic(a).fetch_add(v); }
static inline unsigned atomicAdd(unsigned* a, unsigned v) { return ns_emulation_atomic(a).fetch_add(v); }
static inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) { return ns_emulation_atomic(a).fetch_add(v); }
// g++'s int64_t/uint64_t are long/unsigned long where NVRTC's are long long: these overloads let
// kernels apply atomics to int64_t/uint64_t words as they can under NVRTC.
static inline unsigned long atomicAdd(unsigned long* a, unsigned long v) { return ns_emulation_atomic(a).fetch_add(v); }
static inline float atomicAdd(float* a, float v) { return ns_emulation_atomic(a).fetch_add(v); }
static inline double atomicAdd(double* a, double v) { return ns_emulation_atomic(a).fetch_add(v); }
static inline int atomicSub(int* a, int v) { return ns_emulation_atomic(a).fetch_sub(v); }
static inline unsigned atomicSub(unsigned* a, unsigned v) { return ns_emulation_atomic(a).fetch_sub(v); }
static inline int atomicExch(int* a, int v) { return ns_emulation_atomic(a).exchange(v); }
static inline unsigned atomicExch(unsigned* a, unsigned v) { return ns_emulation_atomic(a).exchange(v); }
static inline unsigned long long atomicExch(unsigned long long* a, unsigned long long v) { return ns_emulation_atomic(a).exchange(v); }
static inline unsigned long atomicExch(unsigned long* a, unsigned long v) { return ns_emulation_atomic(a).exchange(v); }
static inline float atomicExch(float* a, float v) { return ns_emulation_atomic(a).exchange(v); }

#define NS_EMULATION_MINMAX(type) \
    static inline type atomicMin(type* a, type v) { return ns_emulation_atomic_update(a, [v](type o) { return v < o ? v : o; }); } \
    static inline type atomicMax(type* a, type v) { return ns_emulation_atomic_update(a, [v](type o) { return v > o ? v : o; }); }
NS_EMULATION_MINMAX(int)
NS_EMULATION_MINMAX(unsigned)
NS_EMULATION_MINMAX(long long)
NS_EMULATION_MINMAX(unsigned long long)
NS_EMULATION_MINMAX(long)
NS_EMULATION_MINMAX(unsigned long)
#undef NS_EMULATION_MINMAX

#define NS_EMULATION_BITWISE(type) \
    static inline type atomicAnd(type* a, type v) { return ns_emulation_atomic(a).fetch_and(v); } \
    static inline type atomicOr(type* a, type v) { return ns_emulation_atomic(a).fetch_or(v); } \
    static inline type atomicXor(type* a, type v) { return ns_emulation_atomic(a).fetch_xor(v); }
NS_EMULATION_BITWISE(int)
NS_EMULATION_BITWISE(unsigned)
NS_EMULATION_BITWISE(unsigned long long)
NS_EMULATION_BITWISE(unsigned long)
#undef NS_EMULATION_BITWISE

template <class T>
static inline T ns_emulation_cas(T* a, T compare, T value)
{
    ns_emulation_atomic(a).compare_exchange_strong(compare, value);
    return compare;  // holds the old value either way
}
static inline int atomicCAS(int* a, int compare, int value) { return ns_emulation_cas(a, compare, value); }
static inline unsigned atomicCAS(unsigned* a, unsigned compare, unsigned value) { return ns_emulation_cas(a, compare, value); }
static inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long compare, unsigned long long value) { return ns_emulation_cas(a, compare, value); }
static inline unsigned long atomicCAS(unsigned long* a, unsigned long compare, unsigned long value) { return ns_emulation_cas(a, compare, value); }
static inline unsigned short atomicCAS(unsigned short* a, unsigned short compare, unsigned short value) { return ns_emulation_cas(a, compare, value); }

static inline unsigned atomicInc(unsigned* a, unsigned limit)
{
    return ns_emulation_atomic_update(a, [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
static inline unsigned atomicDec(unsigned* a, unsigned limit)
{
    return ns_emulation_atomic_update(a, [limit](unsigned o) { return o == 0 || o > limit ? limit : o - 1; });
}

// ---- math -------------------------------------------------------------------------------------

template <class A, class B, std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>, int> = 0>
static inline std::common_type_t<A, B> min(A a, B b)
{
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<C>) return std::fmin((C)a, (C)b);
    else return (C)b < (C)a ? (C)b : (C)a;
}

template <class A, class B, std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>, int> = 0>
static inline std::common_type_t<A, B> max(A a, B b)
{
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<C>) return std::fmax((C)a, (C)b);
    else return (C)a < (C)b ? (C)b : (C)a;
}

static inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long llmin(long long a, long long b) { return a < b ? a : b; }
static inline long long llmax(long long a, long long b) { return a > b ? a : b; }

static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
static inline float fdividef(float a, float b) { return a / b; }
static inline float sinpif(float x) { return sinf((float)M_PI * x); }
static inline float cospif(float x) { return cosf((float)M_PI * x); }
static inline float normcdff(float x) { return 0.5f * erfcf(-x * (float)M_SQRT1_2); }
// glibc declares these names itself, so they are macros rather than (conflicting) functions.
#define __expf(x) expf(x)
#define __exp10f(x) exp10f(x)
#define __logf(x) logf(x)
#define __log2f(x) log2f(x)
#define __log10f(x) log10f(x)
#define __powf(a, b) powf(a, b)
#define __sinf(x) sinf(x)
#define __cosf(x) cosf(x)
#define __tanf(x) tanf(x)
#define __sincosf(x, s, c) sincosf(x, s, c)
static inline float __fdividef(float a, float b) { return a / b; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
static inline float __fsqrt_rn(float x) { return sqrtf(x); }
static inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }

static inline float __int_as_float(int i) { return ns_emulation_from_bits<float>((unsigned)i); }
static inline int __float_as_int(float f) { return (int)(unsigned)ns_emulation_bits(f); }
static inline float __uint_as_float(unsigned i) { return ns_emulation_from_bits<float>(i); }
static inline unsigned __float_as_uint(float f) { return (unsigned)ns_emulation_bits(f); }
static inline double __longlong_as_double(long long i) { return ns_emulation_from_bits<double>((unsigned long long)i); }
static inline long long __double_as_longlong(double d) { return (long long)ns_emulation_bits(d); }

// Conversions saturate and map NaN to 0, as the GPU's cvt instructions do (C++ leaves both undefined).
template <class I>
static inline I ns_emulation_convert(float rounded)
{
    if (std::isnan(rounded)) return 0;
    if (rounded <= (float)std::numeric_limits<I>::min()) return std::numeric_limits<I>::min();
    if (rounded >= (float)std::numeric_limits<I>::max()) return std::numeric_limits<I>::max();
    return (I)rounded;
}
static inline int __float2int_rn(float x) { return ns_emulation_convert<int>(nearbyintf(x)); }
static inline int __float2int_rd(float x) { return ns_emulation_convert<int>(floorf(x)); }
static inline int __float2int_ru(float x) { return ns_emulation_convert<int>(ceilf(x)); }
static inline int __float2int_rz(float x) { return ns_emulation_convert<int>(truncf(x)); }
static inline unsigned __float2uint_rn(float x) { return ns_emulation_convert<unsigned>(nearbyintf(x)); }
static inline unsigned __float2uint_rd(float x) { return ns_emulation_convert<unsigned>(floorf(x)); }
static inline unsigned __float2uint_ru(float x) { return ns_emulation_convert<unsigned>(ceilf(x)); }
static inline unsigned __float2uint_rz(float x) { return ns_emulation_convert<unsigned>(truncf(x)); }
static inline long long __float2ll_rn(float x) { return ns_emulation_convert<long long>(nearbyintf(x)); }
static inline long long __float2ll_rd(float x) { return ns_emulation_convert<long long>(floorf(x)); }
static inline long long __float2ll_ru(float x) { return ns_emulation_convert<long long>(ceilf(x)); }
static inline long long __float2ll_rz(float x) { return ns_emulation_convert<long long>(truncf(x)); }
static inline float __int2float_rn(int i) { return (float)i; }
static inline float __uint2float_rn(unsigned i) { return (float)i; }
static inline float __ll2float_rn(long long i) { return (float)i; }
static inline float __double2float_rn(double d) { return (float)d; }

static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x)
{
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}
static inline int __mul24(int a, int b) { return (int)((long long)(a << 8 >> 8) * (b << 8 >> 8)); }
static inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) { return (unsigned long long)(((unsigned __int128)a * b) >> 64); }

// Cache-hint loads and stores are plain memory accesses on the host.
template <class T> static inline T __ldg(const T* p) { return *p; }
template <class T> static inline T __ldcg(const T* p) { return *p; }
template <class T> static inline T __ldca(const T* p) { return *p; }
template <class T> static inline T __ldcs(const T* p) { return *p; }
template <class T> static inline T __ldlu(const T* p) { return *p; }
template <class T> static inline T __ldcv(const T* p) { return *p; }
template <class T> static inline void __stcg(T* p, T v) { *p = v; }
template <class T> static inline void __stcs(T* p, T v) { *p = v; }
template <class T> static inline void __stwb(T* p, T v) { *p = v; }
template <class T> static inline void __stwt(T* p, T v) { *p = v; }

// ---- launch -----------------------------------------------------------------------------------

namespace ns_emulation {

inline void run_block(Launch& launch, unsigned long long b)
{
    blockIdx = {(unsigned)(b % launch.grid.x), (unsigned)(b / launch.grid.x % launch.grid.y),
                (unsigned)(b / ((unsigned long long)launch.grid.x * launch.grid.y))};
    try {
        launch.kernel(launch.args);
    } catch (const std::exception& e) {
        launch.fail(e.what());
    } catch (...) {
        launch.fail("unknown exception");
    }
}

inline void run_member(Launch& launch, unsigned linear, std::atomic<int>& gate)
{
    ns_emulation_current = &launch;
    ns_emulation_linear = linear;
    blockDim = launch.block;
    gridDim = launch.grid;
    threadIdx = {linear % launch.block.x, linear / launch.block.x % launch.block.y, linear / (launch.block.x * launch.block.y)};
    gate.wait(0);
    if (gate.load() < 0) return;  // the team could not be created in full
    if (launch.independent) {
        for (unsigned long long b = 0; b < launch.blocks && !launch.failed.load(std::memory_order_relaxed); b++)
            run_block(launch, b);
        return;
    }
    auto& warp = launch.warps[linear / 32];
    for (unsigned long long b = 0; b < launch.blocks && !launch.stop; b++) {
        run_block(launch, b);
        {
            std::lock_guard lock(launch.sync.mutex);
            launch.sync.exited++;
            launch.sync.try_release();
        }
        {
            std::lock_guard lock(warp.mutex);
            warp.exited |= 1u << (linear % 32);
            for (auto& s : warp.slots) warp.try_release(s);
        }
        // Only now: until its releases are done, the deadlock check must see this thread as live.
        launch.progress.finished++;
        launch.team.arrive_and_wait();
    }
}

inline std::string configuration_error(dim3 grid, dim3 block, size_t shared)
{
    auto text = [](dim3 d) {
        return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) + ")";
    };
    unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
    if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 || block.y > 1024 || block.z > 64 || threads > 1024)
        return "invalid configuration argument: block " + text(block) + " has " + std::to_string(threads) +
               " threads; CUDA allows 1 to 1024 (x, y <= 1024, z <= 64)";
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535)
        return "invalid configuration argument: grid " + text(grid) + " outside [1, 2^31-1] x [1, 65535] x [1, 65535]";
    if (shared > 232448)
        return "invalid argument: " + std::to_string(shared) + " bytes of dynamic shared memory, more than the 227 KiB a block can have";
    return {};
}

inline int launch(void (*kernel)(void**), dim3 grid, dim3 block, size_t shared, bool independent, void** args, char* error, int capacity) noexcept
{
    std::string failure;
    try {
        failure = configuration_error(grid, block, shared);
        if (failure.empty()) {
            Launch state(kernel, args, grid, block, shared, independent);
            std::atomic<int> gate{0};
            std::vector<std::thread> team;
            team.reserve(state.threads);
            try {
                for (unsigned t = 0; t < state.threads; t++)
                    team.emplace_back(run_member, std::ref(state), t, std::ref(gate));
                gate.store(1);
            } catch (const std::exception& e) {
                failure = std::string("could not start the block's threads: ") + e.what();
                gate.store(-1);
            }
            gate.notify_all();
            for (auto& t : team) t.join();
            if (failure.empty() && state.failed.load()) failure = state.failure;
        }
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (failure.empty()) return 0;
    std::snprintf(error, (size_t)capacity, "%s", failure.c_str());
    return 1;
}

template <class... P, std::size_t... I>
inline void call(void (*kernel)(P...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<P*>(args[I])...);
}

template <class... P>
constexpr int parameter_count(void (*)(P...)) { return (int)sizeof...(P); }

// What a generated launch shim instantiates for one entry point: unpacks cuLaunchKernel-style
// arguments (an array of pointers, one per parameter) by the kernel's own parameter types.
template <auto Kernel>
inline void unpack(void** args)
{
    call(Kernel, args, std::make_index_sequence<parameter_count(Kernel)>{});
}

}  // namespace ns_emulation

// Entry of every generated shim: `count` is what the launch passed, checked against the kernel's
// parameters since a mismatch reads garbage on the GPU.
template <auto Kernel, bool IndependentBlocks>
static inline int ns_emulation_launch(const char* name, const unsigned* dims, unsigned shared, void** args, int count, char* error, int capacity)
{
    int expected = ns_emulation::parameter_count(Kernel);
    if (count != expected) {
        std::snprintf(error, (size_t)capacity, "kernel %s takes %d arguments, the launch passed %d", name, expected, count);
        return 1;
    }
    return ns_emulation::launch(&ns_emulation::unpack<Kernel>, dim3(dims[0], dims[1], dims[2]), dim3(dims[3], dims[4], dims[5]), shared, IndependentBlocks, args, error, capacity);
}
