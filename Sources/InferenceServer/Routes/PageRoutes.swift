import Hummingbird

extension InferenceService {
    /// `GET /`, `GET /app.js`, `GET /style.css`: the visualisation page, from memory.
    func addPageRoutes(to router: Router<ServerRequestContext>) {
        for (path, asset) in assets.files {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok,
                    headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
            }
        }
    }
}
