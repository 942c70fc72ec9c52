// SPDX-License-Identifier: Apache-2.0
// How stekctl inspect prints: a block per ticket, or one JSON object per
// line (NDJSON); and the --summary table or document. Never a secret: the
// reports carry none.
#pragma once

#include "output.hpp"

#include <stek/inspect/summary.hpp>

#include <ostream>

namespace stekctl {

// Return the ticket report as the JSON object of the inspect contract.
Json ticket_report_json(const stek::inspect::TicketReport& report);

// Print ticket number `number` (1-based) as a readable block.
void print_ticket_report(std::ostream& out,
                         const stek::inspect::TicketReport& report,
                         std::uint64_t number);

// Return the --summary document.
Json summary_json(const stek::inspect::Summary& summary);

// Print the --summary as tables.
void print_summary(std::ostream& out, const stek::inspect::Summary& summary);

// Format a capture time as RFC 3339 with microseconds.
std::string format_capture_time(stek::inspect::CaptureTime t);

} // namespace stekctl
