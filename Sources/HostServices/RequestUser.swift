/// Who the request being served comes from: the web console's signed-in user, or the name of the
/// API token that authorised it. Set by the web listener around each request; the event log
/// records it with every event the request causes, including from the jobs it starts.
package enum RequestUser {
    @TaskLocal package static var name: String?
}
