import APITypes
import Hummingbird

/// `/v1/events`: the event log.
struct EventController {
    let host: ViridianHost

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get { request, _ in
            let level = try request.queryChoice("level", as: EventLevel.self)
            let since = try request.queryText("since").map { try TimeParsing.parse($0) }
            let limit = try request.queryInteger("limit", in: 1...10_000) ?? 500
            return JSONResponse(value: try host.inventory.events(vm: request.queryText("vm"), minimumLevel: level,
                                                                  since: since, limit: limit))
        }
        // Newline-delimited JSON, one `StreamItem` a line, until the client leaves; `{}` lines keep it alive.
        group.get("stream") { request, _ in
            let vm = request.queryText("vm")?.lowercased()
            let level = try request.queryChoice("level", as: EventLevel.self)
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
