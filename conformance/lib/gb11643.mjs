// Citizen ID numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence and an
// ISO 7064 MOD 11-2 check character. The harness makes its own valid, clearly synthetic numbers.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function checkChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

export function isValid(id) {
  return /^\d{17}[\dX]$/.test(id) && checkChar(id.slice(0, 17)) === id[17];
}

/** The n-th synthetic ID number for a region (default 110105, Beijing Chaoyang), born 1990-01-01. */
export function makeIdNumber(n, region = '110105') {
  const seq = String(n % 1000).padStart(3, '0');
  const first17 = `${region}19900101${seq}`;
  return first17 + checkChar(first17);
}
