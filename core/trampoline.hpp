// Resumes coroutines in a loop instead of nested calls.
//
// Symmetric transfer (returning a handle from await_suspend) is meant to be a
// tail call, but g++ 12 does not emit it as one at -O0/-O1 or under
// AddressSanitizer. A chain of awaits that complete synchronously would then
// grow the stack by a frame per await. So qwire hands the next coroutine to
// this loop instead: await_suspend() records it with transfer() and returns,
// and the loop resumes it. The stack depth stays constant however long the
// chain.
#pragma once

#include <coroutine>
#include <utility>

namespace qwire::detail {

struct trampoline_state {
    std::coroutine_handle<> next{};
    bool active = false;
};

inline thread_local trampoline_state tl_trampoline;

// Resumes h and every coroutine that control is transferred to from it,
// until one suspends without naming a successor. Safe to call while another
// loop runs further up the stack (it nests).
inline void resume(std::coroutine_handle<> h) {
    trampoline_state& t = tl_trampoline;
    const trampoline_state saved = t;
    t.active = true;
    while (h) {
        t.next = nullptr;
        h.resume();
        h = t.next;
    }
    t = saved;
}

// Called from await_suspend(): run h once the current coroutine has
// suspended. Outside any loop (a foreign coroutine awaiting a qwire task),
// runs it right away in a loop of its own.
inline void transfer(std::coroutine_handle<> h) {
    trampoline_state& t = tl_trampoline;
    if (t.active)
        t.next = h;
    else
        resume(h);
}

}  // namespace qwire::detail
