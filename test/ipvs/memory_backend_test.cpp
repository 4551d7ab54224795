// MemoryBackend answers as the kernel does, and reports refusals with their batch index.
#include "lvsd/ipvs/memory_backend.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lvsd::ipvs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
namespace errc = boost::system::errc;

model::Endpoint ep(std::string_view text) { return model::Endpoint::parse(text, true).value(); }
ServiceKey tcp(std::string_view text) {
  return ServiceKey{.family = model::Family::V4, .protocol = model::Protocol::Tcp, .endpoint = ep(text)};
}
Service svc(std::string_view text, std::string scheduler = "wlc") {
  return Service{.key = tcp(text), .scheduler = std::move(scheduler)};
}
Destination dest(std::string_view text, std::uint32_t weight = 1) {
  return Destination{.endpoint = ep(text), .weight = weight};
}
Failure failed(std::size_t index, errc::errc_t e) { return {index, errc::make_error_code(e)}; }

TEST(MemoryBackend, RefusalsCarryTheKernelsErrnoAndTheirIndex) {
  MemoryBackend kernel;
  const std::vector<Operation> ops{
      AddService{svc("192.0.2.10:80")},
      AddService{svc("192.0.2.10:80")},                                  // EEXIST
      EditService{svc("192.0.2.11:80")},                                 // ESRCH
      AddService{svc("192.0.2.12:80", "fastest")},                       // ENOENT: no such scheduler
      AddService{svc("192.0.2.13:0")},                                   // EINVAL: port 0 without persistence
      AddDestination{tcp("192.0.2.10:80"), dest("10.0.0.1:80")},
      AddDestination{tcp("192.0.2.10:80"), dest("10.0.0.1:80")},         // EEXIST
      AddDestination{tcp("192.0.2.99:80"), dest("10.0.0.1:80")},         // ESRCH
      EditDestination{tcp("192.0.2.10:80"), dest("10.0.0.2:80")},        // ENOENT
      DeleteDestination{tcp("192.0.2.10:80"), ep("10.0.0.2:80")},        // ENOENT
      DeleteService{tcp("192.0.2.99:80")},                               // ESRCH
  };
  EXPECT_THAT(kernel.apply(ops),
              ElementsAre(failed(1, errc::file_exists), failed(2, errc::no_such_process),
                          failed(3, errc::no_such_file_or_directory), failed(4, errc::invalid_argument),
                          failed(6, errc::file_exists), failed(7, errc::no_such_process),
                          failed(8, errc::no_such_file_or_directory),
                          failed(9, errc::no_such_file_or_directory), failed(10, errc::no_such_process)));
  EXPECT_EQ(kernel.table(), (Table{{svc("192.0.2.10:80"), {dest("10.0.0.1:80")}}}));
  EXPECT_EQ(kernel.operations_applied(), ops.size());
  EXPECT_EQ(kernel.apply_calls(), 1u);
}

TEST(MemoryBackend, LowerThresholdAboveUpperIsInvalid) {
  MemoryBackend kernel({{svc("192.0.2.10:80"), {}}});
  Destination d = dest("10.0.0.1:80");
  d.upper_threshold = 10;
  d.lower_threshold = 20;
  EXPECT_THAT(kernel.apply(std::vector<Operation>{AddDestination{tcp("192.0.2.10:80"), d}}),
              ElementsAre(failed(0, errc::invalid_argument)));
}

TEST(MemoryBackend, EditsKeepCountersAndDeletesRemove) {
  MemoryBackend kernel({{svc("192.0.2.10:80"), {dest("10.0.0.1:80"), dest("10.0.0.2:80")}}});
  auto& counters = const_cast<Table&>(kernel.table())[0].destinations[0];
  counters.active_conns = 5;
  EXPECT_THAT(kernel.apply(std::vector<Operation>{EditDestination{tcp("192.0.2.10:80"), dest("10.0.0.1:80", 9)},
                                                  DeleteDestination{tcp("192.0.2.10:80"), ep("10.0.0.2:80")},
                                                  EditService{svc("192.0.2.10:80", "rr")}}),
              IsEmpty());
  const auto t = kernel.dump().value();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].service.scheduler, "rr");
  ASSERT_EQ(t[0].destinations.size(), 1u);
  EXPECT_EQ(t[0].destinations[0].weight, 9u);
  EXPECT_EQ(t[0].destinations[0].active_conns, 5u);
}

}  // namespace
}  // namespace lvsd::ipvs
