// One reader per config section. Each fills its part of Config from a YAML node, keeping the defaults of
// config.h for absent keys, and records problems in the YamlReader instead of stopping.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "proxy/config/config.h"
#include "proxy/config/yaml_reader.h"

namespace gatehouse::config {

// Values shared by several sections.
std::optional<Address> readAddress(YamlReader& reader, const YAML::Node& node, const std::string& path,
                                   bool is_listener);
std::vector<Cidr> readCidrList(YamlReader& reader, const YAML::Node& node, const std::string& path);
// Route and policy names: non-empty, letters, digits, '_', '-', '.'. Reports and returns false otherwise.
bool checkPlainName(YamlReader& reader, const YAML::Node& at, const std::string& path,
                    const std::string& name);

// basic_sections.cpp
void readUpstream(YamlReader& reader, const YAML::Node& node, const std::string& path,
                  UpstreamConfig& upstream);
void readLimits(YamlReader& reader, const YAML::Node& node, const std::string& path, LimitsConfig& limits);
void readLog(YamlReader& reader, const YAML::Node& node, const std::string& path, LogConfig& log);
void readStore(YamlReader& reader, const YAML::Node& node, const std::string& path, StoreConfig& store);

// policy_sections.cpp
void readSessionPolicies(YamlReader& reader, const YAML::Node& node, const std::string& path,
                         std::map<std::string, SessionPolicy>& sessions);
void readRateLimitPolicies(YamlReader& reader, const YAML::Node& node, const std::string& path,
                           std::map<std::string, RateLimitPolicy>& rate_limits);

// route_section.cpp: needs the policies read first, to check the names routes refer to.
void readRoutes(YamlReader& reader, const YAML::Node& node, const std::string& path, Config& config);

}  // namespace gatehouse::config
