#include "proxy/http/field_scan.h"

#include <boost/beast/core/string.hpp>

#include "proxy/http/request_id.h"

namespace gatehouse::http {
namespace {

namespace bhttp = boost::beast::http;

// The first value of a name wins, as with Fields::operator[].
void keepFirst(std::string_view& slot, bool& seen, std::string_view value) {
  if (seen) return;
  slot = value;
  seen = true;
}

}  // namespace

const FieldName kRequestIdField{kRequestIdHeader};

bool isNamed(const Fields::value_type& field, const FieldName& name) {
  if (name.id != bhttp::field::unknown) return field.name() == name.id;
  const auto text = field.name_string();
  return text.size() == name.text.size() && boost::beast::iequals(text, name.text);
}

bool hasField(const Fields& fields, bhttp::field name) {
  for (const auto& field : fields) {
    if (field.name() == name) return true;
  }
  return false;
}

void replaceField(Fields& fields, const FieldName& name, std::string_view value) {
  for (auto it = fields.begin(); it != fields.end();) {
    it = isNamed(*it, name) ? fields.erase(it) : std::next(it);
  }
  // With no field of that name left, insert appends at the end of the list, as set does.
  fields.insert(name.id, name.text, value);
}

RequestFieldValues scanRequestFields(const Fields& fields) {
  RequestFieldValues values;
  bool host = false, accept = false, connection = false, expect = false, request_id = false;
  for (const auto& field : fields) {
    switch (field.name()) {
      case bhttp::field::host:
        keepFirst(values.host, host, field.value());
        break;
      case bhttp::field::accept:
        keepFirst(values.accept, accept, field.value());
        break;
      case bhttp::field::connection:
        keepFirst(values.connection, connection, field.value());
        break;
      case bhttp::field::expect:
        keepFirst(values.expect, expect, field.value());
        break;
      case bhttp::field::upgrade:
        values.has_upgrade = true;
        break;
      default:
        if (isNamed(field, kRequestIdField)) keepFirst(values.request_id, request_id, field.value());
        break;
    }
  }
  return values;
}

}  // namespace gatehouse::http
