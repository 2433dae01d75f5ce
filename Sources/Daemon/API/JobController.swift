import APITypes
import HostServices
import Hummingbird

/// `/v1/jobs`: long operations, their progress, and cancel.
struct JobController {
    let jobs: JobManager

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get { _, _ in JSONResponse(value: try jobs.list()) }
        group.get(":id") { _, context in JSONResponse(value: try jobs.job(id: try context.pathParameter("id"))) }
        group.post(":id/cancel") { _, context in
            JSONResponse(value: try jobs.cancel(id: try context.pathParameter("id")), status: .accepted)
        }
    }
}
