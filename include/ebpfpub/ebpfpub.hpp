#pragma once
/// \file
/// Everything: signatures, serializers, events and the tracer.

#include <ebpfpub/error.hpp>
#include <ebpfpub/event.hpp>
#include <ebpfpub/plan.hpp>
#include <ebpfpub/resources.hpp>
#include <ebpfpub/serializer.hpp>
#include <ebpfpub/signature.hpp>
#include <ebpfpub/syscalls.hpp>
#include <ebpfpub/tracefs.hpp>
#include <ebpfpub/tracer.hpp>
