// Hop-by-hop fields (RFC 9110 §7.6.1) describe one connection, not the message: a proxy consumes them and
// never forwards them. Gatehouse frames each side of the relay itself, so it strips them both ways.
#pragma once

#include "proxy/http/fields.h"

namespace gatehouse::http {

// Removes Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding and Upgrade, plus every
// field named by a token of any Connection field (comma-separated, case-insensitive). Proxy-Authenticate and
// Proxy-Authorization are left alone: RFC 9110 §11.7 makes them end-to-end.
//
// Connection is always removed, whatever keep_upgrade says. With keep_upgrade (the caller has decided to
// relay a protocol upgrade) the Upgrade field survives, and the caller adds back exactly "Connection:
// Upgrade" for the next hop, so that no other connection option of the client's leaks through.
//
// Connection may not remove Host or Content-Length: a client naming them ("Connection: Host") would otherwise
// change how the upstream routes or frames the request. Those tokens are ignored.
void removeHopByHop(Fields& fields, bool keep_upgrade);

}  // namespace gatehouse::http
