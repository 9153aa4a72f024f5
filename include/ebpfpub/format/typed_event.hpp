#pragma once
/// \file
/// A typed event as a dynamic event, so both print the same: arguments are named after
/// the members of `Args` (a Hana struct whose members carry the kernel's field names, as
/// every serializer's `args_type` does).

#include <boost/hana/accessors.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/string.hpp>

#include <ebpfpub/event.hpp>

namespace ebpfpub {

template <typename Args>
dynamic_event to_dynamic(const basic_event<Args>& e) {
  static_assert(boost::hana::Struct<Args>::value,
                "ebpfpub: printing basic_event<Args> needs Args to be a Hana struct "
                "(BOOST_HANA_DEFINE_STRUCT), so its members have names.");
  dynamic_event out{e.header, {}};
  boost::hana::for_each(boost::hana::accessors<Args>(), [&](auto accessor) {
    const auto& member = boost::hana::second(accessor)(e.args);
    using T = std::decay_t<decltype(member)>;
    out.args.push_back({intern_name(boost::hana::to<const char*>(boost::hana::first(accessor))),
                        to_dynamic_value<T>(member)});
  });
  return out;
}

}  // namespace ebpfpub
