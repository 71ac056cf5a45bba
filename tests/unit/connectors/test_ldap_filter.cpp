// Unit tests of the RFC 4515 filter subset used for LDIF entries.
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "connectors/ldap_filter.hpp"

using namespace b24sync::connectors;

namespace {
const std::vector<attribute_value_view> user = {
    {"objectClass", "top"},           {"objectClass", "user"},       {"cn", "Смирнов Олег"},
    {"mail", "O.Smirnov@Corp.local"}, {"userAccountControl", "514"}, {"employeeID", "000123"},
};
bool match(const char* f) {
  return ldap_filter::parse(f).matches(user);
}
}  // namespace

TEST_CASE("equality, presence and boolean operators") {
  CHECK(match("(objectClass=user)"));
  CHECK(match("(OBJECTCLASS=USER)"));
  CHECK(match("objectClass=user"));
  CHECK_FALSE(match("(objectClass=computer)"));
  CHECK(match("(mail=*)"));
  CHECK_FALSE(match("(telephoneNumber=*)"));
  CHECK(match("(&(objectClass=user)(employeeID=000123))"));
  CHECK_FALSE(match("(&(objectClass=user)(employeeID=1))"));
  CHECK(match("(|(objectClass=computer)(cn=Смирнов Олег))"));
  CHECK(match("(!(objectClass=computer))"));
  CHECK(match("(&(objectClass=user)(!(userAccountControl=512)))"));
}

TEST_CASE("substrings, ordering and escapes") {
  CHECK(match("(mail=*@corp.local)"));
  CHECK(match("(mail=o.*@*)"));
  CHECK(match("(cn=Смир*)"));
  CHECK_FALSE(match("(mail=*@other.ru)"));
  CHECK(match("(employeeID>=000100)"));
  CHECK_FALSE(match("(employeeID<=000100)"));
  CHECK(match("(cn=\\d0\\a1*)"));  // "С" escaped as hex
  CHECK_FALSE(ldap_filter::parse("(cn=a\\2ab)").matches(std::vector<attribute_value_view>{{"cn", "axb"}}));
  CHECK(ldap_filter::parse("(cn=a\\2ab)").matches(std::vector<attribute_value_view>{{"cn", "a*b"}}));
}

TEST_CASE("malformed filters are refused with an offset") {
  for (const char* bad :
       {"", "(", "(cn=x", "(=x)", "(&(cn=x)", "(cn=x))", "(!(a=1)(b=2))", "(cn=\\zz)", "(cn=(x)"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(ldap_filter::parse(bad), std::invalid_argument);
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "(!";
  deep += "(a=b)";
  for (int i = 0; i < 100; ++i) deep += ")";
  CHECK_THROWS_AS(ldap_filter::parse(deep), std::invalid_argument);
}
