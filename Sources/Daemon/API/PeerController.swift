import APITypes
import Foundation
import Hummingbird
import Migration

/// The peer API under `/peer/v1` on the migration listener: what a source host calls to move a
/// VM here. Every call is from an authenticated peer; calls about a prepared move must come
/// from the peer that prepared it.
struct PeerController {
    let host: ViridianHost

    func addRoutes(to group: RouterGroup<PeerRequestContext>) {
        group.get("host") { _, context in
            _ = try await context.peer(in: host.peers)
            return JSONResponse(value: await host.peerHello())
        }
        group.post("incoming") { request, context in
            let peer = try await context.peer(in: host.peers)
            let body = try await request.decodeJSON(as: IncomingRequest.self, context: context)
            return JSONResponse(value: try await host.incoming.prepare(body, from: peer), status: .created)
        }
        group.get("incoming/:id") { _, context in
            let peer = try await context.peer(in: host.peers)
            return JSONResponse(value: try await host.incoming.status(try context.pathParameter("id"), peer: peer.record.name))
        }
        group.post("incoming/:id/keepalive") { _, context in
            let peer = try await context.peer(in: host.peers)
            let id = try context.pathParameter("id")
            try await host.incoming.keepAlive(id, peer: peer.record.name)
            return JSONResponse(value: IncomingStatus(state: .pending))
        }
        group.post("incoming/:id/commit") { request, context in
            let peer = try await context.peer(in: host.peers)
            let body = try await request.decodeJSON(as: CommitRequest.self, context: context)
            return JSONResponse(value: try await host.incoming.commit(try context.pathParameter("id"), resume: body.resume,
                                                                      peer: peer.record.name))
        }
        group.put("incoming/:id/files/:file") { request, context in
            let peer = try await context.peer(in: host.peers)
            let id = try context.pathParameter("id")
            try await host.incoming.receive(id, file: try context.pathParameter("file"), peer: peer.record.name, body: request.body)
            return JSONResponse(value: IncomingStatus(state: .pending))
        }
        group.delete("incoming/:id") { _, context in
            let peer = try await context.peer(in: host.peers)
            let id = try context.pathParameter("id")
            await host.incoming.abort(id, reason: "the source host '\(peer.record.name)' gave up the move", peer: peer.record.name)
            return JSONResponse(value: try await host.incoming.status(id, peer: peer.record.name))
        }
    }
}
