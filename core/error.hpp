// Error codes of the core and io layers, and result<T>: a value or an error.
#pragma once

#include <cerrno>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace qwire {

// Conditions the core and io layers report that have no errno of their own.
// Cancellation and deadlines use std::errc::operation_canceled and
// std::errc::timed_out so that callers can compare against the standard names.
enum class errc {
    eof = 1,           // the peer closed its side cleanly
    closed,            // the local object was closed while the operation ran
    shutting_down,     // the reactor is being destroyed
    no_such_host,      // name resolution found nothing
    invalid_argument,  // a malformed address, option or buffer
    deadlock,          // block_on() waits for a task that nothing can complete
};

const std::error_category& core_category() noexcept;

}  // namespace qwire

template <>
struct std::is_error_code_enum<qwire::errc> : std::true_type {};

namespace qwire {

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), core_category()};
}

// Whether ec says only that the connection ended (the peer left, or this
// end closed or shut down), as opposed to a failure worth reporting.
inline bool is_disconnect(std::error_code ec) noexcept {
    return ec == errc::eof || ec == errc::closed || ec == errc::shutting_down || ec == std::errc::connection_reset ||
           ec == std::errc::broken_pipe || ec == std::errc::operation_canceled;
}

// The error_code of a negative errno, as io_uring returns it.
inline std::error_code errno_code(int err) noexcept {
    return {err < 0 ? -err : err, std::system_category()};
}

// A value of type T or an error_code. I/O and protocol calls return it; the
// data path throws no exceptions. value() throws std::system_error, for code
// at the top that prefers exceptions.
template <class T>
class [[nodiscard]] result {
public:
    using value_type = T;

    template <class U = T>
        requires std::is_constructible_v<T, U&&> &&
                 (!std::is_same_v<std::remove_cvref_t<U>, result>) &&
                 (!std::is_same_v<std::remove_cvref_t<U>, std::error_code>) &&
                 (!std::is_error_code_enum_v<std::remove_cvref_t<U>>)
    result(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}
    result(std::error_code ec) noexcept : v_(std::in_place_index<1>, ec) {}
    // Any layer's error enum (qwire::errc, kdb::errc, ...).
    template <class E>
        requires std::is_error_code_enum_v<E>
    result(E e) noexcept : v_(std::in_place_index<1>, make_error_code(e)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    std::error_code error() const noexcept {
        return has_value() ? std::error_code{} : std::get<1>(v_);
    }

    T& value() & { check(); return std::get<0>(v_); }
    const T& value() const& { check(); return std::get<0>(v_); }
    // By value: `for (auto x : f().value())` must not dangle.
    T value() && { check(); return std::get<0>(std::move(v_)); }

    T& operator*() & noexcept { return *std::get_if<0>(&v_); }
    const T& operator*() const& noexcept { return *std::get_if<0>(&v_); }
    T operator*() && noexcept { return std::move(*std::get_if<0>(&v_)); }
    T* operator->() noexcept { return std::get_if<0>(&v_); }
    const T* operator->() const noexcept { return std::get_if<0>(&v_); }

private:
    void check() const {
        if (!has_value()) throw std::system_error(std::get<1>(v_));
    }
    std::variant<T, std::error_code> v_;
};

template <>
class [[nodiscard]] result<void> {
public:
    using value_type = void;
    result() noexcept = default;
    result(std::error_code ec) noexcept : ec_(ec) {}
    template <class E>
        requires std::is_error_code_enum_v<E>
    result(E e) noexcept : ec_(make_error_code(e)) {}

    bool has_value() const noexcept { return !ec_; }
    explicit operator bool() const noexcept { return has_value(); }
    std::error_code error() const noexcept { return ec_; }
    void value() const {
        if (ec_) throw std::system_error(ec_);
    }

private:
    std::error_code ec_;
};

}  // namespace qwire

