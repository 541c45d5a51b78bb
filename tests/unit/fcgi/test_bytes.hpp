// Helpers shared by the fcgi unit tests to spell records as bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace fcgi::test {

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

template <class Array>
std::string as_string(const Array& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}

}  // namespace fcgi::test
