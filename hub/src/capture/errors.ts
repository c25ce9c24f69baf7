/** The media errors, where the capture code has always imported them from; defined in `../errors.ts`. */
export {
  CameraConfigError,
  ClipMuxError,
  DetectorError,
  FfmpegNotFoundError,
  FfmpegPathError,
  MediaError,
  mediaErrorCodes,
  type MediaErrorCode,
} from "../errors.ts"
