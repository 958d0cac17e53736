// The client-side TLS context for rediss:// connections, built once per client from the store's TLS settings.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "proxy/config/config.h"

namespace gatehouse::store {

// Peer verification is on unless tls.verify is false; with no ca_file the system trust store is used. A
// client certificate is presented when cert_file is set (key_file defaults to it). Throws std::runtime_error
// naming the file that could not be loaded.
std::shared_ptr<boost::asio::ssl::context> makeRedisTlsContext(const config::TlsConfig& tls);

}  // namespace gatehouse::store
