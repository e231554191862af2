#include <qwire/core/error.hpp>

#include <string>

namespace qwire {
namespace {

class core_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "qwire"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::eof: return "end of stream: the peer closed the connection";
            case errc::closed: return "the stream was closed locally";
            case errc::shutting_down: return "the reactor is shutting down";
            case errc::no_such_host: return "name resolution found no address";
            case errc::invalid_argument: return "invalid argument";
            case errc::deadlock: return "block_on: the task waits for something that can never happen";
        }
        return "unknown qwire error " + std::to_string(ev);
    }
};

}  // namespace

void throw_error(const error& e) {
    if (e.detail().empty()) throw std::system_error(e.code());
    throw std::system_error(e.code(), std::string(e.detail()));
}

const std::error_category& core_category() noexcept {
    static const core_category_impl instance;
    return instance;
}

}  // namespace qwire
