/* model.c - vocabularies of the trust model; see model.h. */
#include "model.h"

#include <string.h>

const char *const tc_service_names[TC_SERVICE_COUNT] = {
    "ssh", "rdp", "http", "https", "grpc", "postgres", "mysql", "mongodb",
    "redis", "memcached", "kafka", "amqp", "elasticsearch", "admin-api",
    "k8s-api", "docker-api", "smb", "ldap", "dns", "metadata", "vault",
    "object-storage", "ci-runner", "billing-api",
};

const char *const tc_env_names[TC_ENV_COUNT] = { "prod", "staging", "dev" };

const char *const tc_tier_names[TC_TIER_COUNT] = {
    "edge", "web", "api", "worker", "data", "cache", "queue", "secrets",
    "ci", "admin", "billing",
};

const char *const tc_crown_names[TC_CROWN_COUNT] = {
    "none", "database", "secrets", "privileged", "billing",
};

const char *const tc_package_kind_names[TC_PKG_KIND_COUNT] = {
    "library", "cicd", "infra",
};

const char *const tc_trust_names[TC_TRUST_COUNT] = { "none", "implicit" };

const char *const tc_attr_names[TC_ATTR_COUNT] = {
    "tenant", "account", "vpc", "subnet", "segment", "app", "principal",
    "env", "tier", "crown", "internet_facing",
};

int tc_name_find(const char *const *names, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int tc_service_find(const char *name)
{
    return tc_name_find(tc_service_names, TC_SERVICE_COUNT, name);
}
