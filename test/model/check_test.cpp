// The written forms of status ranges and digests.
#include "lvsd/model/check.hpp"

#include <gtest/gtest.h>

namespace lvsd::model {
namespace {

TEST(ParseStatusRange, CodesAndRanges) {
  EXPECT_EQ(parse_status_range("200"), (StatusRange{200, 200}));
  EXPECT_EQ(parse_status_range("200-299"), (StatusRange{200, 299}));
  EXPECT_EQ(parse_status_range("100-599"), (StatusRange{100, 599}));
  for (const char* bad : {"", "99", "600", "2000", "200-", "-200", "299-200", "200-600", "20x", "+200", "200 ",
                          "200-299-300", "0200"})
    EXPECT_FALSE(parse_status_range(bad)) << bad;
}

TEST(ParseDigest, GenhashFormsAndSha256) {
  const std::string md5 = "b1946ac92492d2347c6235b4d2611184";
  const std::string sha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
  EXPECT_EQ(parse_digest(md5), (Digest{DigestAlgorithm::Md5, md5}));
  EXPECT_EQ(parse_digest("md5:B1946AC92492D2347C6235B4D2611184"), (Digest{DigestAlgorithm::Md5, md5}));
  EXPECT_EQ(parse_digest(sha), (Digest{DigestAlgorithm::Sha256, sha}));
  EXPECT_EQ(parse_digest("sha256:" + sha), (Digest{DigestAlgorithm::Sha256, sha}));
  EXPECT_FALSE(parse_digest(""));
  EXPECT_FALSE(parse_digest(md5.substr(1)));
  EXPECT_FALSE(parse_digest("md5:" + sha));
  EXPECT_FALSE(parse_digest("sha256:" + md5));
  EXPECT_FALSE(parse_digest("g" + md5.substr(1)));
  EXPECT_FALSE(parse_digest("sha1:" + md5));
}

}  // namespace
}  // namespace lvsd::model
