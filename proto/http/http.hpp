// The small part of HTTP/1.1 that a WebSocket upgrade and a REST call need,
// one concept per header: messages and their text (message.hpp), parsing and
// reading them (parser.hpp), chunked bodies (chunked.hpp), the
// Authorization header (auth.hpp), base64 (base64.hpp). This header brings
// them all.
#pragma once

#include <qwire/proto/http/auth.hpp>
#include <qwire/proto/http/base64.hpp>
#include <qwire/proto/http/chunked.hpp>
#include <qwire/proto/http/message.hpp>
#include <qwire/proto/http/json.hpp>
#include <qwire/proto/http/parser.hpp>
#include <qwire/proto/http/server.hpp>
