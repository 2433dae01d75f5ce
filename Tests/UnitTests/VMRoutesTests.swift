import APITypes
@testable import Daemon
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The VM routes of viridiand's own router, driven in-process against a fake of the host's VMs: each
/// route reaches the right operation with its path, body and query decoded, answers with the status
/// its kind of result has, and maps every error to one status and one JSON shape.
@Suite("VM routes against a fake VM service", .enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-x86_64"),
                                                       "viridiand needs QEMU to open its host"))
struct VMRoutesTests {
    /// One request and what the fake must have been asked.
    struct Exchange: Sendable {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var status: HTTPResponse.Status
        var call: String
    }

    static let exchanges: [Exchange] = [
        Exchange(method: .get, uri: "/v1/vms", status: .ok, call: "list"),
        Exchange(method: .post, uri: "/v1/vms", body: #"{"name":"web","memoryMiB":512}"#, status: .created, call: "create web memoryMiB=512"),
        Exchange(method: .post, uri: "/v1/vms/import", body: #"{"path":"/srv/export/web","name":"web2"}"#, status: .created,
                 call: "importVM /srv/export/web name=web2"),
        Exchange(method: .get, uri: "/v1/vms/web", status: .ok, call: "show web"),
        Exchange(method: .get, uri: "/v1/vms/Web%20Server%20%C3%A9t%C3%A9", status: .ok, call: "show Web Server été"),
        Exchange(method: .patch, uri: "/v1/vms/web", body: #"{"notes":"front end"}"#, status: .ok, call: "set web notes=front end"),
        Exchange(method: .delete, uri: "/v1/vms/web", status: .noContent, call: "remove web deleteDisks=false deleteAttachedDisks=false"),
        Exchange(method: .delete, uri: "/v1/vms/web?deleteDisks=true&deleteAttachedDisks=true", status: .noContent,
                 call: "remove web deleteDisks=true deleteAttachedDisks=true"),
        Exchange(method: .post, uri: "/v1/vms/web/start", status: .accepted, call: "start web"),
        Exchange(method: .post, uri: "/v1/vms/web/stop", status: .accepted, call: "stop web turnOff=false timeout=-"),
        Exchange(method: .post, uri: "/v1/vms/web/stop", body: #"{"turnOff":true,"timeoutSeconds":30}"#, status: .accepted,
                 call: "stop web turnOff=true timeout=30"),
        Exchange(method: .post, uri: "/v1/vms/web/save", status: .accepted, call: "save web"),
        Exchange(method: .post, uri: "/v1/vms/web/pause", status: .ok, call: "pause web"),
        Exchange(method: .post, uri: "/v1/vms/web/resume", status: .ok, call: "resume web"),
        Exchange(method: .post, uri: "/v1/vms/web/restart", status: .ok, call: "restart web"),
        Exchange(method: .post, uri: "/v1/vms/web/disks", body: #"{"path":"/srv/data.vhdx"}"#, status: .ok, call: "addDisk web /srv/data.vhdx"),
        Exchange(method: .delete, uri: "/v1/vms/web/disks?path=%2Fsrv%2Fdata.vhdx", status: .ok,
                 call: "removeDisk web path=/srv/data.vhdx controller=- number=- location=-"),
        Exchange(method: .delete, uri: "/v1/vms/web/disks?controllerType=scsi&controllerNumber=0&location=3", status: .ok,
                 call: "removeDisk web path=- controller=SCSI number=0 location=3"),
        Exchange(method: .put, uri: "/v1/vms/web/dvd", body: #"{"path":"/srv/tools.iso"}"#, status: .ok, call: "setDVD web /srv/tools.iso"),
        Exchange(method: .put, uri: "/v1/vms/web/dvd", body: "{}", status: .ok, call: "setDVD web eject"),
        Exchange(method: .get, uri: "/v1/vms/web/console/log", status: .ok, call: "consoleLog web 1048576"),
        Exchange(method: .get, uri: "/v1/vms/web/console/log?bytes=4096", status: .ok, call: "consoleLog web 4096"),
        Exchange(method: .get, uri: "/v1/vms/web/nics", status: .ok, call: "networkAdapters web"),
        Exchange(method: .post, uri: "/v1/vms/web/nics", body: #"{"switchName":"Default Switch"}"#, status: .created,
                 call: "addNetworkAdapter web Default Switch"),
        Exchange(method: .patch, uri: "/v1/vms/web/nics/1", body: #"{"mtu":9000}"#, status: .ok, call: "setNetworkAdapter web 1 mtu=9000"),
        Exchange(method: .delete, uri: "/v1/vms/web/nics/1", status: .noContent, call: "removeNetworkAdapter web 1"),
    ]

    @Test("each VM route reaches its operation with the path, body and query decoded, and answers with its status")
    func routesReachTheirOperations() async throws {
        let vms = RecordingVMService()
        try await withTemporaryHost("vm-routes") { host in
            try await Application(router: ApplicationBuilder.router(host: host, vms: vms)).test(.router) { client in
                for exchange in Self.exchanges {
                    let response = try await client.execute(uri: exchange.uri, method: exchange.method,
                                                            body: exchange.body.map { ByteBuffer(string: $0) })
                    #expect(response.status == exchange.status,
                            "\(exchange.method) \(exchange.uri): \(response.status) \(String(buffer: response.body))")
                    if exchange.status == .accepted {
                        let reference = try WireJSON.decoder().decode(JobReference.self, from: Data(buffer: response.body))
                        #expect(reference.job.vm == "web", "a job route answers with the job it started")
                    }
                }
                let log = try await client.execute(uri: "/v1/vms/web/console/log", method: .get)
                #expect(log.headers[.contentType] == "text/plain; charset=utf-8" && String(buffer: log.body) == "login: ",
                        "the console log is served as text: \(String(buffer: log.body))")
            }
        }
        let calls = await vms.calls
        #expect(Array(calls.prefix(Self.exchanges.count)) == Self.exchanges.map(\.call))
    }

    static let failures: [(ViridianError, HTTPResponse.Status)] = [
        (ViridianError(.busy, "VM 'web' is busy: saving (job 1a2b3c4d)"), .conflict),
        (ViridianError(.notFound, "VM 'web' not found"), .notFound),
        (ViridianError(.invalidArgument, "memory must be a multiple of 2 MiB"), .badRequest),
        (ViridianError(.invalidState, "VM 'web' is Off"), .conflict),
        (ViridianError(.timeout, "the guest did not answer in 30 s"), .gatewayTimeout),
        (ViridianError(.notResponding, "the guest's shutdown service does not answer"), .badGateway),
        (ViridianError(.permissionDenied, "not in the viridian group"), .forbidden),
    ]

    @Test("an error of the VM service becomes its status and one JSON shape")
    func errorsMapToStatuses() async throws {
        let vms = RecordingVMService()
        try await withTemporaryHost("vm-errors") { host in
            try await Application(router: ApplicationBuilder.router(host: host, vms: vms)).test(.router) { client in
                for (error, status) in Self.failures {
                    await vms.fail("start", with: error)
                    let response = try await client.execute(uri: "/v1/vms/web/start", method: .post)
                    #expect(response.status == status, "\(error.code): \(response.status)")
                    let body = try WireJSON.decoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                    #expect(body.error.code == error.code.description && body.error.message == error.message,
                            "the error body carries the code and message: \(String(buffer: response.body))")
                }
            }
        }
    }

    @Test("an unexpected error is a 500 whose body shows no internals")
    func unexpectedErrorsHideInternals() async throws {
        struct LibraryFailure: Error, CustomStringConvertible { var description: String { "LibraryFailure at Source.swift:42" } }
        let vms = RecordingVMService()
        await vms.fail("pause", with: LibraryFailure())
        try await withTemporaryHost("vm-internal") { host in
            try await Application(router: ApplicationBuilder.router(host: host, vms: vms)).test(.router) { client in
                let response = try await client.execute(uri: "/v1/vms/web/pause", method: .post)
                #expect(response.status == .internalServerError)
                #expect(!String(buffer: response.body).contains("Source.swift"), "no source location: \(String(buffer: response.body))")
            }
        }
    }

    static let unusableRequests = [
        "DELETE /v1/vms/web?deleteDisks=yes",
        "DELETE /v1/vms/web?deleteAttachedDisks=1",
        "DELETE /v1/vms/web/disks?controllerType=sata&location=0",
        "DELETE /v1/vms/web/disks?controllerType=ide&controllerNumber=one&location=0",
        "DELETE /v1/vms/web/disks?controllerType=ide&controllerNumber=0&location=64",
        "GET /v1/vms/web/console/log?bytes=-1",
        "GET /v1/vms/web/console/log?bytes=lots",
        "GET /v1/vms/web/console/log?bytes=99999999999",
        "DELETE /v1/vms/web/nics/-1",
        "DELETE /v1/vms/web/nics/first",
        "GET /v1/vms/web%2F..%2Fother",
        "GET /v1/vms/web%00",
        // Other resources read their queries through the same helpers.
        "GET /v1/events?limit=20000",
        "GET /v1/events?level=loud",
        "GET /v1/host/peers?check=maybe",
        "GET /v1/vhds?path=%2Fsrv%2Fa.vmdk&format=vmdk",
        "DELETE /v1/vms/web/checkpoints/first?subtree=all",
    ]

    @Test("a query value or path parameter the route cannot use is refused, and the VM service is never asked")
    func unusableQueriesAreRefused() async throws {
        let vms = RecordingVMService()
        try await withTemporaryHost("vm-queries") { host in
            try await Application(router: ApplicationBuilder.router(host: host, vms: vms)).test(.router) { client in
                for request in Self.unusableRequests {
                    let parts = request.split(separator: " ", maxSplits: 1).map(String.init)
                    let response = try await client.execute(uri: parts[1], method: try #require(HTTPRequest.Method(parts[0])))
                    let body = try WireJSON.decoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                    #expect(response.status == .badRequest && body.error.code == "invalidArgument",
                            "\(request): \(response.status) \(String(buffer: response.body))")
                    let calls = await vms.calls
                    #expect(calls.isEmpty, "\(request) reached the VM service: \(calls)")
                }
            }
        }
    }
}
