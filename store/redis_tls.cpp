#include "store/redis_tls.h"

#include <stdexcept>
#include <string>

#include <boost/system/system_error.hpp>

namespace gatehouse::store {

namespace {

namespace ssl = boost::asio::ssl;

template <class Load>
void loadOrThrow(std::string_view what, const std::string& file, Load&& load) {
  try {
    load();
  } catch (const boost::system::system_error& error) {
    throw std::runtime_error("redis TLS: cannot load " + std::string(what) + " '" + file +
                             "': " + error.what());
  }
}

}  // namespace

std::shared_ptr<ssl::context> makeRedisTlsContext(const config::TlsConfig& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (tls.verify) {
    context->set_verify_mode(ssl::verify_peer);
    if (tls.ca_file.empty()) {
      loadOrThrow("the system CA store", "", [&] { context->set_default_verify_paths(); });
    } else {
      loadOrThrow("ca_file", tls.ca_file, [&] { context->load_verify_file(tls.ca_file); });
    }
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  if (!tls.cert_file.empty()) {
    const std::string& key = tls.key_file.empty() ? tls.cert_file : tls.key_file;
    loadOrThrow("cert_file", tls.cert_file, [&] { context->use_certificate_chain_file(tls.cert_file); });
    loadOrThrow("key_file", key, [&] { context->use_private_key_file(key, ssl::context::pem); });
  }
  return context;
}

}  // namespace gatehouse::store
