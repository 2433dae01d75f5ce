import APITypes
import Hummingbird

/// `/v1/events`: the event log.
struct EventController {
    let host: ViridianHost

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get { request, _ in
            let query = request.uri.queryParameters
            let level = try query["level"].map { text -> EventLevel in
                guard let level = EventLevel(rawValue: String(text).lowercased()) else {
                    throw ViridianError(.invalidArgument, "level must be information, warning or error, not '\(text)'")
                }
                return level
            }
            let since = try query["since"].map { try TimeParsing.parse(String($0)) }
            let limit = min(max(query["limit"].flatMap { Int(String($0)) } ?? 500, 1), 10_000)
            return JSONResponse(value: try host.inventory.events(vm: query["vm"].map(String.init), minimumLevel: level,
                                                                  since: since, limit: limit))
        }
        // Newline-delimited JSON, one `StreamItem` a line, until the client leaves; `{}` lines keep it alive.
        group.get("stream") { request, _ in
            let query = request.uri.queryParameters
            let vm = query["vm"].map { String($0).lowercased() }
            let level = try query["level"].map { text -> EventLevel in
                guard let level = EventLevel(rawValue: String(text).lowercased()) else {
                    throw ViridianError(.invalidArgument, "level must be information, warning or error, not '\(text)'")
                }
                return level
            }
            let feed = host.events.feed.subscribe()
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                for await item in feed {
                    if let event = item.event {
                        if let vm, event.vm?.lowercased() != vm { continue }
                        if let level, event.level < level { continue }
                    }
                    if let job = item.job, let vm, job.vm?.lowercased() != vm { continue }
                    var line = try WireJSON.encoder().encode(item)
                    line.append(UInt8(ascii: "\n"))
                    try await writer.write(ByteBuffer(bytes: line))
                }
                try await writer.finish(nil)
            })
        }
    }
}
