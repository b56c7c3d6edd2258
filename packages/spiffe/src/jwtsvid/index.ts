/** JWT-SVIDs: validation against the JWT bundle of the subject's own trust domain. */
export { JwtSvidError, validateJwtSvid } from './jwtsvid';
