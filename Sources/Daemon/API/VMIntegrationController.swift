import AgentProtocol
import APITypes
import Hummingbird

/// A VM's integration services: `/v1/vms/{name}/integration-services`, `/kvp`, `/freeze`,
/// `/thaw`, `/copy-file` and `/integration-disk`.
struct VMIntegrationController {
    let host: ViridianHost

    func addRoutes(to router: Router<APIRequestContext>) {
        let vms = host.vms
        let group = router.group("v1/vms")
        group.get(":name/integration-services") { _, context in
            JSONResponse(value: try await vms.integrationServices(try name(context)))
        }
        group.put(":name/integration-services/:service") { request, context in
            let body = try await request.decodeJSON(as: SetIntegrationServiceRequest.self, context: context)
            return JSONResponse(value: try await vms.setIntegrationService(try name(context), try service(context),
                                                                           enabled: body.enabled))
        }
        group.get(":name/kvp") { _, context in JSONResponse(value: try await vms.kvpItems(try name(context))) }
        group.patch(":name/kvp") { request, context in
            let body = try await request.decodeJSON(as: KVPChangeRequest.self, context: context)
            return JSONResponse(value: try await vms.changeKVP(try name(context), body))
        }
        group.post(":name/freeze") { request, context in
            let body = try await request.decodeJSONIfPresent(as: FreezeVMRequest.self, context: context)
            let timeout = body?.timeoutSeconds ?? 60
            guard (1...600).contains(timeout) else {
                throw ViridianError(.invalidArgument, "the freeze timeout must be 1 to 600 seconds")
            }
            let hub = try await vms.integrationHub(try name(context))
            return JSONResponse(value: try await hub.freeze(timeoutSeconds: timeout))
        }
        group.post(":name/thaw") { _, context in
            let hub = try await vms.integrationHub(try name(context))
            return JSONResponse(value: try await hub.thaw())
        }
        group.post(":name/copy-file") { request, context in
            let body = try await request.decodeJSON(as: CopyFileRequest.self, context: context)
            let job = try await host.fileCopies.start(vm: try name(context), body)
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
        group.post(":name/integration-disk") { _, context in
            let job = try await host.integrationUpdates.insertSetupDisk(vm: try name(context))
            return JSONResponse(value: JobReference(job: job), status: .accepted)
        }
    }

    private func name(_ context: APIRequestContext) throws -> String {
        try context.pathParameter("name")
    }

    private func service(_ context: APIRequestContext) throws -> IntegrationService {
        let text = try context.pathParameter("service")
        guard let service = IntegrationService(rawValue: text.lowercased()) else {
            throw ViridianError(.invalidArgument, "unknown integration service '\(text)'; one of: "
                                + IntegrationService.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return service
    }
}
