#include <qwire/proto/sm/error.hpp>

#include <string>

namespace qwire::sm {
namespace {

class sm_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "sm"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::mount: return "sm: no such mount";
            case errc::state: return "sm: the Storage Manager is not ready";
            case errc::callback: return "sm: missing or unusable callback";
            case errc::bad_signal: return "sm: malformed reload signal";
            case errc::bad_response: return "sm: malformed answer";
            case errc::http_status: return "sm: unexpected HTTP status";
        }
        return "sm error " + std::to_string(ev);
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const sm_category c;
    return c;
}

}  // namespace qwire::sm
