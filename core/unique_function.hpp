// unique_function<void()>: a move-only callable wrapper (std::function needs
// copyable targets, and completion handlers are move-only).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace qwire {

template <class Sig>
class unique_function;

template <class R, class... A>
class unique_function<R(A...)> {
public:
    unique_function() noexcept = default;
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, unique_function> && std::is_invocable_r_v<R, F&, A...>)
    unique_function(F&& f) : p_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}
    unique_function(unique_function&&) noexcept = default;
    unique_function& operator=(unique_function&&) noexcept = default;

    explicit operator bool() const noexcept { return p_ != nullptr; }
    R operator()(A... a) { return p_->call(std::forward<A>(a)...); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual R call(A... a) = 0;
    };
    template <class F>
    struct model final : concept_t {
        explicit model(F&& f) : f(std::move(f)) {}
        explicit model(const F& f) : f(f) {}
        R call(A... a) override { return f(std::forward<A>(a)...); }
        F f;
    };
    std::unique_ptr<concept_t> p_;
};

}  // namespace qwire
