// Cases (办件) and the combined application (一窗受理): the list, the detail,
// the business types, the form wizard, the applicants, confirm, submit,
// withdraw and the citizen's rating.
const { request, parsePagination } = require('./http');

function casePath(caseNumber, suffix = '') {
  return `/cases/${encodeURIComponent(caseNumber)}${suffix}`;
}

async function listCases({ page = 1, pageSize = 20 } = {}) {
  const query = `page=${encodeURIComponent(page)}&page_size=${encodeURIComponent(pageSize)}`;
  const { data, headers } = await request(`/cases?${query}`);
  return {
    items: Array.isArray(data) ? data : [],
    pagination: parsePagination(headers),
  };
}

// The detail, with `allowed_actions`: what the citizen may do now, decided by the server.
async function getCase(caseNumber) {
  const { data } = await request(casePath(caseNumber));
  return data;
}

async function withdrawCase(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/withdraw'), { method: 'POST' });
  return data;
}

// The citizen's rating of the service, 5 (非常满意) to 1 (非常不满意).
async function rateCase(caseNumber, score) {
  const { data } = await request(casePath(caseNumber, '/rating'), { method: 'POST', data: { score } });
  return data;
}

async function getBusinessTypes() {
  const { data } = await request('/business-types');
  return Array.isArray(data) ? data : [];
}

// Empty unit number and location are left out: the draft may get them later.
async function createCase({ businessType, unitNumber, location }) {
  const body = { business_type: businessType };
  if (unitNumber) body.unit_number = unitNumber;
  if (location) body.location = location;
  const { data } = await request('/cases', { method: 'POST', data: body });
  return data;
}

async function getCaseForm(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/form'));
  return data;
}

// The whole section at once; the answer is the form view again.
async function saveFormSection(caseNumber, section, values) {
  const { data } = await request(casePath(caseNumber, `/form/${encodeURIComponent(section)}`), {
    method: 'PUT',
    data: values,
  });
  return data;
}

// `applicant` uses the server's field names (role, kind, name, id_number,
// share, representative_name, representative_id_number).
async function addApplicant(caseNumber, applicant) {
  const { data } = await request(casePath(caseNumber, '/applicants'), { method: 'POST', data: applicant });
  return data;
}

async function removeApplicant(caseNumber, applicantId) {
  const { data } = await request(casePath(caseNumber, `/applicants/${encodeURIComponent(applicantId)}`), {
    method: 'DELETE',
  });
  return data;
}

// Confirming and submitting need a recent face verification (X-Identity-Claim).
async function confirmCase(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/confirm'), { method: 'POST', identityClaim: true });
  return data;
}

async function submitCase(caseNumber) {
  const { data } = await request(casePath(caseNumber, '/submit'), { method: 'POST', identityClaim: true });
  return data;
}

module.exports = {
  casePath,
  listCases,
  getCase,
  withdrawCase,
  rateCase,
  getBusinessTypes,
  createCase,
  getCaseForm,
  saveFormSection,
  addApplicant,
  removeApplicant,
  confirmCase,
  submitCase,
};
