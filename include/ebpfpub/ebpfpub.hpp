#pragma once
/// \file
/// Everything: signatures, serializers, events, the tracer, and text and JSON formatting.

#include <ebpfpub/error.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/format/escape.hpp>
#include <ebpfpub/format/json.hpp>
#include <ebpfpub/format/symbols.hpp>
#include <ebpfpub/format/text.hpp>
#include <ebpfpub/format/value_writer.hpp>
#include <ebpfpub/losses.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/privileges.hpp>
#include <ebpfpub/resources.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/signature.hpp>
#include <ebpfpub/summary/format.hpp>
#include <ebpfpub/summary/summary.hpp>
#include <ebpfpub/syscalls.hpp>
#include <ebpfpub/tracefs.hpp>
#include <ebpfpub/tracer.hpp>
