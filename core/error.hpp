// Error codes of the core and io layers, and result<T>: a value or an error.
#pragma once

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>
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

// An error: a code (any layer's enum, or an errno) and a short detail that
// names what it is about: the key, the column, the offset, the server's
// text. Returned by value; the detail is shared, not copied, when the error
// is (an error without one allocates nothing).
//
//     if (!r) log(r.error().message());   // "QWP: PARSE_ERROR: bad column 'px'"
//     if (r.error() == std::errc::timed_out) ...   // compares the code
//
// It converts to its std::error_code, so code that only needs the code
// keeps working; the detail stays with the error.
class error {
public:
    error() noexcept = default;
    error(std::error_code code) noexcept : code_(code) {}
    template <class E>
        requires std::is_error_code_enum_v<E>
    error(E e) noexcept : code_(make_error_code(e)) {}
    error(std::error_code code, std::string_view detail)
        : code_(code), detail_(detail.empty() ? nullptr : std::make_shared<const std::string>(detail)) {}
    template <class E>
        requires std::is_error_code_enum_v<E>
    error(E e, std::string_view detail) : error(make_error_code(e), detail) {}

    const std::error_code& code() const noexcept { return code_; }
    std::string_view detail() const noexcept { return detail_ ? std::string_view(*detail_) : std::string_view(); }
    // The code's message, then ": " and the detail when there is one.
    std::string message() const {
        std::string m = code_.message();
        if (detail_) m.append(": ").append(*detail_);
        return m;
    }
    int value() const noexcept { return code_.value(); }
    const std::error_category& category() const noexcept { return code_.category(); }
    explicit operator bool() const noexcept { return static_cast<bool>(code_); }
    operator const std::error_code&() const noexcept { return code_; }

    // Errors compare by code: the detail says more, it is not another error.
    friend bool operator==(const error& a, const error& b) noexcept { return a.code_ == b.code_; }
    friend bool operator==(const error& a, const std::error_code& b) noexcept { return a.code_ == b; }
    template <class E>
        requires std::is_error_code_enum_v<E> || std::is_error_condition_enum_v<E>
    friend bool operator==(const error& a, E e) noexcept {
        return a.code_ == e;
    }

private:
    std::error_code code_;
    std::shared_ptr<const std::string> detail_;
};

// Throws std::system_error for e, its what() naming the detail: value() on
// a result that holds an error.
[[noreturn]] void throw_error(const error& e);

// A value of type T or an error. I/O and protocol calls return it; the
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
                 (!std::is_same_v<std::remove_cvref_t<U>, qwire::error>) &&
                 (!std::is_error_code_enum_v<std::remove_cvref_t<U>>)
    result(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}
    result(std::error_code ec) noexcept : v_(std::in_place_index<1>, ec) {}
    result(qwire::error e) noexcept : v_(std::in_place_index<1>, std::move(e)) {}
    // Any layer's error enum (qwire::errc, kdb::errc, ...).
    template <class E>
        requires std::is_error_code_enum_v<E>
    result(E e) noexcept : v_(std::in_place_index<1>, make_error_code(e)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // The error (an empty one when there is a value).
    const qwire::error& error() const noexcept {
        static const qwire::error none;
        return has_value() ? none : *std::get_if<1>(&v_);
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
        if (!has_value()) throw_error(*std::get_if<1>(&v_));
    }
    std::variant<T, qwire::error> v_;
};

template <>
class [[nodiscard]] result<void> {
public:
    using value_type = void;
    result() noexcept = default;
    result(std::error_code ec) noexcept : ec_(ec) {}
    result(qwire::error e) noexcept : ec_(std::move(e)) {}
    template <class E>
        requires std::is_error_code_enum_v<E>
    result(E e) noexcept : ec_(make_error_code(e)) {}

    bool has_value() const noexcept { return !ec_; }
    explicit operator bool() const noexcept { return has_value(); }
    const qwire::error& error() const noexcept { return ec_; }
    void value() const {
        if (ec_) throw_error(ec_);
    }

private:
    qwire::error ec_;
};

}  // namespace qwire

