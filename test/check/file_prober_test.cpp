// The file prober against files in a temporary directory: weights, 0, garbage, none.
#include "lvsd/check/file_prober.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>

namespace lvsd::check {
namespace {
namespace asio = boost::asio;

const Target kTarget{.endpoint = {model::IpAddress::v4(0x7f000001), 80}};

class FileProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lvsd-file-check-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& contents) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  static Result probe(const std::string& path) {
    asio::io_context io;
    FileProber prober({.path = path});
    std::optional<Result> out;
    asio::co_spawn(io, prober.probe(kTarget), [&](std::exception_ptr e, Result r) {
      if (e) std::rethrow_exception(e);
      out = std::move(r);
    });
    io.run();
    return *out;
  }

  std::filesystem::path dir_;
};

TEST_F(FileProberTest, AWeightIsUpWithThatWeight) {
  const Result r = probe(write("w", "42\n"));
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "weight 42");
  EXPECT_EQ(r.weight, 42u);
}

TEST_F(FileProberTest, WhiteSpaceAroundTheNumberIsAllowed) {
  const Result r = probe(write("w", " \t 7 \r\n\n"));
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.weight, 7u);
  EXPECT_EQ(probe(write("w", "1")).weight, 1u);  // no newline
  EXPECT_EQ(probe(write("w", "65535\n")).weight, 65535u);
  EXPECT_EQ(probe(write("w", "007\n")).weight, 7u);
}

TEST_F(FileProberTest, WeightZeroIsDown) {
  const auto path = write("w", "0\n");
  const Result r = probe(path);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "weight 0 in " + path);
  EXPECT_EQ(r.weight, std::nullopt);
}

TEST_F(FileProberTest, AMissingFileIsDown) {
  const auto path = (dir_ / "absent").string();
  const Result r = probe(path);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "cannot read " + path + ": No such file or directory");
}

TEST_F(FileProberTest, ADirectoryIsDown) {
  EXPECT_EQ(probe(dir_.string()).reason, "cannot read " + dir_.string() + ": Is a directory");
}

TEST_F(FileProberTest, AnythingButOneDecimalNumberIsNoWeight) {
  for (const std::string contents : {"", " \n", "abc", "12abc", "1 2", "-3", "+3", "0x10", "1.5", "3\n4\n"}) {
    const auto path = write("w", contents);
    const Result r = probe(path);
    EXPECT_FALSE(r.up) << contents;
    EXPECT_EQ(r.reason, "no weight in " + path) << contents;
  }
}

TEST_F(FileProberTest, AWeightAboveTheLargestIsDown) {
  const auto path = write("w", "65536\n");
  EXPECT_EQ(probe(path).reason, "weight 65536 in " + path + " is above 65535");
  write("w", "99999999999999999999999999\n");  // beyond 64 bits
  EXPECT_EQ(probe(path).reason, "weight 99999999999999999999999999 in " + path + " is above 65535");
}

TEST_F(FileProberTest, OnlySixtyFourBytesAreRead) {
  const auto path = write("w", std::string(62, ' ') + "5\n");  // 64 bytes: still a weight file
  EXPECT_EQ(probe(path).weight, 5u);
  write("w", std::string(63, ' ') + "5\n");
  EXPECT_EQ(probe(path).reason, "no weight in " + path);
}

TEST_F(FileProberTest, AFifoWithoutAWriterDoesNotBlock) {
  const auto path = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_EQ(probe(path).reason, "no weight in " + path);
}

TEST_F(FileProberTest, TheFileIsReadAtEveryAttempt) {
  const auto path = write("w", "3\n");
  EXPECT_EQ(probe(path).weight, 3u);
  write("w", "0\n");
  EXPECT_FALSE(probe(path).up);
  write("w", "9\n");
  EXPECT_EQ(probe(path).weight, 9u);
}

}  // namespace
}  // namespace lvsd::check
