// The ingest JSON scanner (src/calls/json_text.*) must accept and reject exactly what a strict parser
// does, since a frame it lets through reaches the tracker and the store, and one it refuses is counted
// as malformed (reference/kazoo.md §1.6). nlohmann::json::accept is the oracle.

#include "calls/json_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kazoo_bridge::calls::detail {
namespace {

struct text_case {
  std::string text;
  json_scan expected;
};

class ScanObject : public ::testing::TestWithParam<text_case> {};

TEST_P(ScanObject, AgreesWithAStrictParser) {
  const auto& c = GetParam();
  std::vector<json_member> members;
  EXPECT_EQ(scan_object(c.text, members), c.expected) << c.text;
  const bool accepted = nlohmann::json::accept(c.text);
  EXPECT_EQ(accepted, c.expected != json_scan::invalid) << "oracle disagrees with the table: " << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ScanObject,
    ::testing::Values(
        text_case{R"({})", json_scan::ok}, text_case{" \n{ } \t", json_scan::ok},
        text_case{R"({"a":1,"b":[1,2,{"c":null}],"d":{"e":"f"},"g":true,"h":false})", json_scan::ok},
        text_case{R"({"n":-0.5e+10,"m":0,"k":1E3})", json_scan::ok},
        text_case{R"({"s":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})", json_scan::ok},
        text_case{"{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", json_scan::ok},
        text_case{R"([1,2])", json_scan::not_object}, text_case{R"("text")", json_scan::not_object},
        text_case{"42", json_scan::not_object}, text_case{"null", json_scan::not_object},
        text_case{"", json_scan::invalid}, text_case{"   ", json_scan::invalid},
        text_case{R"({"action":"event","name":"CHANNEL_CRE)", json_scan::invalid},
        text_case{R"({"a":1,})", json_scan::invalid}, text_case{R"({"a" 1})", json_scan::invalid},
        text_case{R"({a:1})", json_scan::invalid}, text_case{R"({"a":01})", json_scan::invalid},
        text_case{R"({"a":1.})", json_scan::invalid}, text_case{R"({"a":.5})", json_scan::invalid},
        text_case{R"({"a":1e})", json_scan::invalid}, text_case{R"({"a":-})", json_scan::invalid},
        text_case{R"({"a":tru})", json_scan::invalid}, text_case{R"({"a":nul})", json_scan::invalid},
        text_case{R"({"a":"\x"})", json_scan::invalid}, text_case{R"({"a":"\u12"})", json_scan::invalid},
        text_case{R"({"a":"\ud83d"})", json_scan::invalid}, text_case{R"({"a":"\ude00"})", json_scan::invalid},
        text_case{"{\"a\":\"tab\there\"}", json_scan::invalid},
        text_case{"{\"a\":\"\xff\"}", json_scan::invalid}, text_case{"{\"a\":\"\xc0\xaf\"}", json_scan::invalid},
        text_case{"{\"a\":\"\xed\xa0\x80\"}", json_scan::invalid}, text_case{"{\"a\":\"\xc3\"}", json_scan::invalid},
        text_case{R"({"a":[1,2})", json_scan::invalid}, text_case{R"({"a":{"b":1})", json_scan::invalid},
        text_case{R"({} {})", json_scan::invalid}, text_case{R"({"a":1}x)", json_scan::invalid}));

TEST(ScanObject, TrailingNulIsNotJson) {
  // nlohmann stops at a NUL and accepts this; RFC 8259 does not, and neither do we.
  std::vector<json_member> members;
  EXPECT_EQ(scan_object(std::string("{\"a\":1}\0", 8), members), json_scan::invalid);
}

TEST(ScanObject, DeepNestingIsRefusedNotRecursedOn) {
  // Deeper than any Kazoo event: refused (nlohmann accepts it, so it is not in the oracle table).
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::vector<json_member> members;
  EXPECT_EQ(scan_object(deep, members), json_scan::invalid);
}

TEST(ScanObject, MembersAreViewsOfTheirExactText) {
  const std::string text = R"( {"call_id" : "abc" , "ccv":{"x": [1, 2]},"n":-12, "k\u0065y":"v"} )";
  std::vector<json_member> m;
  ASSERT_EQ(scan_object(text, m), json_scan::ok);
  ASSERT_EQ(m.size(), 4U);
  EXPECT_EQ(m[0].key, "call_id");
  EXPECT_EQ(m[0].value, R"("abc")");
  EXPECT_EQ(m[1].value, R"({"x": [1, 2]})");
  EXPECT_EQ(m[2].value, "-12");
  EXPECT_TRUE(m[3].is("key")) << "an escaped key still matches its decoded name";
  EXPECT_FALSE(m[3].is("k\\u0065y"));
}

// The scanner and the writers look at a string a word (8 bytes) at a time and jump to the first byte
// that needs a look, the last word padded: every special byte at every offset of strings of 0 to 24
// bytes, so each lands at each position of a word and of the padded tail, checked against nlohmann.
TEST(StringScan, EverySpecialByteAtEveryOffsetAgreesWithTheOracle) {
  const std::vector<std::string> specials = {
      "\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00",  // a quote (ends the string), escapes
      "\n", "\x1f", "\x7f", "\xc3\xa9", "\xf0\x9f\x98\x80",     // control characters, DEL, UTF-8
      "\xff", "\xc3", "\\x", "\\ud83d"};                   // invalid: byte, cut, escape, surrogate
  int checked = 0;
  for (std::size_t len = 0; len <= 24; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (const auto& sp : specials) {
        // Inside a JSON string literal: {"k":"<before><special><after>","z":1}
        const std::string body = std::string(at, 'a') + sp + std::string(len - at, 'b');
        const std::string text = "{\"k\":\"" + body + "\",\"z\":1}";
        std::vector<json_member> members;
        const bool ok = scan_object(text, members) == json_scan::ok;
        ASSERT_EQ(ok, nlohmann::json::accept(text)) << text;
        ++checked;
        if (!ok) continue;
        ASSERT_EQ(members.size(), 2U) << text;
        const auto expected = nlohmann::json::parse(text)["k"].get<std::string>();
        ASSERT_EQ(decode_string(members[0].value), expected) << text;
        // And written back: byte for byte what nlohmann writes, for the decoded and the raw bytes.
        std::string out;
        append_json_string(out, expected);
        ASSERT_EQ(out, nlohmann::json(expected).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      std::string raw = std::string(at, 'a') + "\x01\xff\"" + std::string(len - at, 'b');
      std::string out;
      append_json_string(out, raw);
      ASSERT_EQ(out, nlohmann::json(raw).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) << len;
    }
  }
  EXPECT_EQ(checked, 325 * 14);
}

TEST(ScanObject, TheNestedObjectAskedForIsSplitInTheSamePass) {
  auto members_of = [](std::string_view object) {
    std::vector<json_member> m;
    EXPECT_EQ(scan_object(object, m), json_scan::ok) << object;
    return m;
  };
  auto same = [](const std::vector<json_member>& a, const std::vector<json_member>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
    }
    return true;
  };
  const std::string data = R"({"call_id":"c1" , "ccv":{"x":[1,{"y":"z"}]},"n":-1.5e3,"e":{},"s":"\"q\""})";
  const std::string text = R"({"action":"event","data":)" + data + R"(,"name":"CHANNEL_CREATE"})";
  std::vector<json_member> top, nested;
  ASSERT_EQ(scan_object(text, top, "data", &nested), json_scan::ok);
  EXPECT_TRUE(same(top, members_of(text)));
  EXPECT_TRUE(same(nested, members_of(data)));
  EXPECT_EQ(nested.size(), 5U);
  // An escaped key still names it; a repeated key: the last one's members, as a lookup finds the last.
  ASSERT_EQ(scan_object(R"({"d\u0061ta":{"a":1},"data":{"b":2,"c":3}})", top, "data", &nested), json_scan::ok);
  ASSERT_EQ(nested.size(), 2U);
  EXPECT_EQ(nested[0].key, "b");
  // Not an object, or no such member: nothing; invalid inside it: the whole text is invalid.
  EXPECT_EQ(scan_object(R"({"data":[1,2]})", top, "data", &nested), json_scan::ok);
  EXPECT_TRUE(nested.empty());
  EXPECT_EQ(scan_object(R"({"other":{"a":1}})", top, "data", &nested), json_scan::ok);
  EXPECT_TRUE(nested.empty());
  EXPECT_EQ(scan_object(R"({"data":{"a":tru}})", top, "data", &nested), json_scan::invalid);
  EXPECT_EQ(scan_object(R"({"data":{"a":1}} x)", top, "data", &nested), json_scan::invalid);
}

TEST(DecodeValue, MatchesTheDomParser) {
  for (std::string v : {R"("a\"b\\c\u00e9\ud83d\ude00")", "12", "-7", "9223372036854775807", "18446744073709551616",
                        "1.5", "-2e3", "true", "false", "null", R"({"x":[1,"y"]})", R"([])"}) {
    EXPECT_EQ(decode_value(v), nlohmann::json::parse(v)) << v;
  }
  EXPECT_EQ(decode_string(R"("x\ny")"), "x\ny");
  EXPECT_EQ(decode_string("42"), "") << "not a string";
}

TEST(AppendJsonString, ReadsBackAsTheSameString) {
  // The call state (restore after a restart) is written with it: names with quotes, backslashes,
  // control characters and non-ASCII must come back unchanged.
  for (std::string v : {std::string("plain"), std::string("Jane \"JJ\" Roe"), std::string("a\\b/c"),
                        std::string("line\nbreak\ttab\r\b\f"), std::string("\x01\x1f"), std::string("Ren\xc3\xa9" "e \xf0\x9f\x98\x80"),
                        std::string("nul\0inside", 10), std::string()}) {
    std::string out;
    append_json_string(out, v);
    std::vector<json_member> members;
    ASSERT_EQ(scan_object("{\"k\":" + out + "}", members), json_scan::ok) << out;
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), v) << out;
    EXPECT_EQ(decode_string(out), v) << out;
  }
}

// The strings a payload holds, as the writers meet them: plain runs longer than the 8-byte fast path,
// escapes at every position of a word, multi-byte UTF-8, and text that is not UTF-8 at all.
std::vector<std::string> writer_cases() {
  std::vector<std::string> v = {"",
                                "plain",
                                "exactly8",
                                "a somewhat longer plain ASCII run of text, 64 bytes and more......",
                                "Jane \"JJ\" Roe",
                                "a\\b/c",
                                "line\nbreak\ttab\r\b\f",
                                std::string("\x01\x1f\x7f", 3),
                                "Ren\xc3\xa9" "e \xf0\x9f\x98\x80 \xe2\x82\xac",
                                std::string("nul\0inside", 10),
                                "bad \xff byte",
                                "cut \xe2\x82",
                                "overlong \xc0\xaf",
                                "surrogate \xed\xa0\x80 (CESU)"};
  for (std::size_t i = 0; i < 9; ++i) v.push_back(std::string(i, 'x') + "\"" + std::string(9 - i, 'y') + "\\");
  return v;
}

TEST(AppendJsonString, IsByteForByteNlohmannsDump) {
  for (const auto& v : writer_cases()) {
    std::string out = "prefix";
    append_json_string(out, v);
    EXPECT_EQ(out, "prefix" + nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        << v;
  }
}

TEST(AppendJson, IsByteForByteNlohmannsDump) {
  nlohmann::json payload = nlohmann::json::object();
  const auto cases = writer_cases();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    payload["k" + std::to_string(i) + cases[i % 7]] = cases[i];  // keys with escapes and UTF-8 too
  }
  payload["n"] = nullptr;
  payload["t"] = true;
  payload["f"] = false;
  payload["int"] = std::int64_t{-42};
  payload["big"] = std::uint64_t{18446744073709551615ULL};
  payload["float"] = 1.5;
  payload["nested"] = {{"a", nlohmann::json::array({1, "two", nullptr, nlohmann::json::object()})}, {"b", {}}};
  payload["empty"] = nlohmann::json::array();
  for (const auto& j : {payload, nlohmann::json(nullptr), nlohmann::json("top"), nlohmann::json::object()}) {
    std::string out;
    append_json(out, j);
    EXPECT_EQ(out, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

}  // namespace
}  // namespace kazoo_bridge::calls::detail
